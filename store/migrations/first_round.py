"""Schema versions 1-9: documents, judging, runs, verdicts, maps, jobs (the first rounds of the workbench)."""

from __future__ import annotations

FIRST_ROUND: list[list[str]] = [
    # 1: documents and the ingest log
    [
        """
        CREATE TABLE documents (
            doc_id VARCHAR PRIMARY KEY,
            url VARCHAR,
            title VARCHAR NOT NULL,
            text VARCHAR NOT NULL,
            division VARCHAR,
            document_type VARCHAR,
            collection VARCHAR,
            tree_path VARCHAR,
            taxonomy_flags VARCHAR[] NOT NULL,
            source_format VARCHAR NOT NULL,
            source_file VARCHAR,
            source_line BIGINT,
            content_hash VARCHAR NOT NULL,
            metadata JSON,
            first_seen TIMESTAMP NOT NULL,
            last_seen TIMESTAMP NOT NULL
        )
        """,
        "CREATE SEQUENCE ingest_id_seq START 1",
        """
        CREATE TABLE ingests (
            ingest_id BIGINT PRIMARY KEY DEFAULT nextval('ingest_id_seq'),
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP NOT NULL,
            paths VARCHAR[] NOT NULL,
            format VARCHAR NOT NULL,
            collection VARCHAR,
            read BIGINT NOT NULL,
            inserted BIGINT NOT NULL,
            updated BIGINT NOT NULL,
            unchanged BIGINT NOT NULL,
            rejected BIGINT NOT NULL,
            duplicates BIGINT NOT NULL,
            rejects_file VARCHAR
        )
        """,
    ],
    # 2: query sets, queries and judgments (append-only: a changed mind is a new row)
    [
        """
        CREATE TABLE query_sets (
            name VARCHAR PRIMARY KEY,
            origin VARCHAR NOT NULL,
            description VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT now()
        )
        """,
        """
        CREATE TABLE queries (
            query_set VARCHAR NOT NULL,
            query_id VARCHAR NOT NULL,
            text VARCHAR NOT NULL,
            origin VARCHAR NOT NULL,
            metadata JSON,
            created_at TIMESTAMP NOT NULL DEFAULT now(),
            PRIMARY KEY (query_set, query_id)
        )
        """,
        "CREATE SEQUENCE judgment_id_seq START 1",
        """
        CREATE TABLE judgments (
            judgment_id BIGINT PRIMARY KEY DEFAULT nextval('judgment_id_seq'),
            query_set VARCHAR NOT NULL,
            query_id VARCHAR NOT NULL,
            doc_id VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            grade SMALLINT,
            annotator VARCHAR NOT NULL,
            session_id VARCHAR,
            source VARCHAR,
            undoes BIGINT,
            created_at TIMESTAMP NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX judgments_pair ON judgments (query_set, query_id, doc_id)",
        # What counts: each annotator's latest row per pair, ignoring rows that were undone.
        """
        CREATE VIEW current_judgments AS
        SELECT * FROM judgments j
        WHERE kind <> 'undo' AND NOT EXISTS (SELECT 1 FROM judgments u WHERE u.undoes = j.judgment_id)
        QUALIFY row_number() OVER (
            PARTITION BY query_set, query_id, doc_id, annotator ORDER BY judgment_id DESC) = 1
        """,
    ],
    # 3: frozen runs (a retriever's ranking for every query of a set), used by evaluation and comparison
    [
        """
        CREATE TABLE runs (
            name VARCHAR PRIMARY KEY,
            retriever VARCHAR NOT NULL,
            query_set VARCHAR NOT NULL,
            mode VARCHAR NOT NULL,
            k INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT now()
        )
        """,
        """
        CREATE TABLE run_results (
            run VARCHAR NOT NULL,
            query_id VARCHAR NOT NULL,
            rank INTEGER NOT NULL,
            doc_id VARCHAR NOT NULL,
            score DOUBLE NOT NULL,
            passage VARCHAR,
            PRIMARY KEY (run, query_id, rank)
        )
        """,
    ],
    # 4: relevancy verdicts (rules and LLM, cached by content hash, model and prompt version), curator
    # decisions (append-only, they win) and reviews of the judge's division/document-type suggestions
    [
        """
        CREATE TABLE verdicts (
            doc_id VARCHAR NOT NULL,
            judge VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            prompt_version VARCHAR NOT NULL,
            content_hash VARCHAR NOT NULL,
            ok BOOLEAN NOT NULL,
            kept BOOLEAN,
            quality VARCHAR,
            rule VARCHAR,
            reasons VARCHAR[],
            division VARCHAR,
            document_type VARCHAR,
            confidence DOUBLE,
            error VARCHAR,
            attempts INTEGER NOT NULL DEFAULT 1,
            input_tokens BIGINT,
            output_tokens BIGINT,
            latency_ms DOUBLE,
            judged_at TIMESTAMP NOT NULL,
            PRIMARY KEY (doc_id, judge, model, prompt_version, content_hash)
        )
        """,
        "CREATE SEQUENCE decision_id_seq START 1",
        """
        CREATE TABLE decisions (
            decision_id BIGINT PRIMARY KEY DEFAULT nextval('decision_id_seq'),
            doc_id VARCHAR NOT NULL,
            kept BOOLEAN NOT NULL,
            note VARCHAR,
            decided_by VARCHAR NOT NULL,
            decided_at TIMESTAMP NOT NULL DEFAULT now()
        )
        """,
        "CREATE SEQUENCE suggestion_review_id_seq START 1",
        """
        CREATE TABLE suggestion_reviews (
            review_id BIGINT PRIMARY KEY DEFAULT nextval('suggestion_review_id_seq'),
            doc_id VARCHAR NOT NULL,
            field VARCHAR NOT NULL,
            value VARCHAR NOT NULL,
            accepted BOOLEAN NOT NULL,
            previous VARCHAR,
            decided_by VARCHAR NOT NULL,
            decided_at TIMESTAMP NOT NULL DEFAULT now()
        )
        """,
        # Each judge's newest successful verdict on the document's current text; stale ones drop out.
        """
        CREATE VIEW current_machine_verdicts AS
        SELECT v.* FROM verdicts v JOIN documents d ON d.doc_id = v.doc_id AND d.content_hash = v.content_hash
        WHERE v.ok
        QUALIFY row_number() OVER (PARTITION BY v.doc_id, v.judge ORDER BY v.judged_at DESC, v.model) = 1
        """,
        """
        CREATE VIEW latest_decisions AS
        SELECT * FROM decisions QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY decision_id DESC) = 1
        """,
        # The verdict in force per document: a curator's decision, else the current LLM, else the current rules.
        """
        CREATE VIEW verdicts_in_force AS
        SELECT d.doc_id,
               coalesce(c.kept, l.kept, r.kept) AS kept,
               CASE WHEN c.doc_id IS NOT NULL THEN 'curator' WHEN l.doc_id IS NOT NULL THEN 'llm' ELSE 'rules' END
                   AS judge,
               CASE WHEN c.doc_id IS NULL THEN coalesce(l.quality, r.quality) END AS quality,
               CASE WHEN c.doc_id IS NULL AND l.doc_id IS NULL THEN r.rule END AS rule,
               CASE WHEN c.doc_id IS NOT NULL THEN list_filter([c.note], lambda n: n IS NOT NULL)
                    ELSE coalesce(l.reasons, r.reasons) END AS reasons,
               coalesce(c.decided_by, l.model, r.model) AS decided_by,
               coalesce(c.decided_at, l.judged_at, r.judged_at) AS decided_at
        FROM documents d
        LEFT JOIN latest_decisions c ON c.doc_id = d.doc_id
        LEFT JOIN current_machine_verdicts l ON l.doc_id = d.doc_id AND l.judge = 'llm'
        LEFT JOIN current_machine_verdicts r ON r.doc_id = d.doc_id AND r.judge = 'rules'
        WHERE c.doc_id IS NOT NULL OR l.doc_id IS NOT NULL OR r.doc_id IS NOT NULL
        """,
        # Division / document type a curator accepted: re-ingest keeps them over the source's values.
        """
        CREATE VIEW curated_labels AS
        SELECT doc_id,
               any_value(value) FILTER (field = 'division') AS division,
               any_value(value) FILTER (field = 'document_type') AS document_type
        FROM (SELECT * FROM suggestion_reviews WHERE accepted
              QUALIFY row_number() OVER (PARTITION BY doc_id, field ORDER BY review_id DESC) = 1)
        GROUP BY doc_id
        """,
    ],
    # 5: UMAP maps per retriever (the fitted reducer is a file under maps/, named here), each document's
    # point with the content hash of the vector it was placed from, clusters of a map, and queues of
    # documents picked for later work (the map's "queue for judging")
    [
        """
        CREATE TABLE maps (
            retriever VARCHAR PRIMARY KEY,
            fingerprint VARCHAR NOT NULL,
            reducer VARCHAR NOT NULL,
            fitted_on INTEGER NOT NULL,
            fitted_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL
        )
        """,
        """
        CREATE TABLE map_points (
            retriever VARCHAR NOT NULL,
            doc_id VARCHAR NOT NULL,
            content_hash VARCHAR NOT NULL,
            x REAL NOT NULL,
            y REAL NOT NULL,
            cluster INTEGER,
            PRIMARY KEY (retriever, doc_id)
        )
        """,
        """
        CREATE TABLE map_clusters (
            retriever VARCHAR NOT NULL,
            cluster INTEGER NOT NULL,
            label VARCHAR NOT NULL,
            x REAL NOT NULL,
            y REAL NOT NULL,
            PRIMARY KEY (retriever, cluster)
        )
        """,
        """
        CREATE TABLE document_queue (
            doc_id VARCHAR NOT NULL,
            queue VARCHAR NOT NULL DEFAULT 'judging',
            added_by VARCHAR NOT NULL,
            added_at TIMESTAMP NOT NULL DEFAULT now(),
            PRIMARY KEY (queue, doc_id)
        )
        """,
    ],
    # 6: background jobs (embed, map, LLM filter, query generation, runs, eval, fine-tune, ingest): one row per job,
    # written when it is started, when its process starts and when it ends (live progress is in a file per job)
    [
        "CREATE SEQUENCE IF NOT EXISTS job_id_seq START 1",
        """
        CREATE TABLE IF NOT EXISTS jobs (
            job_id BIGINT PRIMARY KEY DEFAULT nextval('job_id_seq'),
            kind VARCHAR NOT NULL,
            target VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            params JSON NOT NULL,
            argv VARCHAR[] NOT NULL,
            started_by VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT now(),
            started_at TIMESTAMP,
            finished_at TIMESTAMP,
            pid INTEGER,
            pid_started DOUBLE,
            done BIGINT,
            total BIGINT,
            log_tail VARCHAR,
            result JSON,
            error VARCHAR,
            cancel_requested_at TIMESTAMP
        )
        """,
    ],
    # 7: collection names as typed or given by a manifest, shown instead of the keys documents carry
    [
        """
        CREATE TABLE IF NOT EXISTS collection_names (
            collection VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL
        )
        """,
    ],
    # 8: a curator's note on a query of a set (what it means, why it is hard); the newest note counts
    [
        """
        CREATE TABLE IF NOT EXISTS query_notes (
            query_set VARCHAR NOT NULL,
            query_id VARCHAR NOT NULL,
            annotator VARCHAR NOT NULL,
            note VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            PRIMARY KEY (query_set, query_id, annotator)
        )
        """,
    ],
    # 9: runs record what made them (the retriever's fingerprint with its model revision, the version of its
    # vectors, the query set's version) and whether a person froze them by name; benchmark membership of
    # documents as its own relation (an import never rewrites a stored document's collection)
    [
        "ALTER TABLE runs ADD COLUMN fingerprint VARCHAR",
        "ALTER TABLE runs ADD COLUMN vectors_version BIGINT",
        "ALTER TABLE runs ADD COLUMN set_version VARCHAR",
        "ALTER TABLE runs ADD COLUMN frozen BOOLEAN NOT NULL DEFAULT false",
        "UPDATE runs SET frozen = true WHERE name <> retriever || ':' || query_set",
        """
        CREATE TABLE benchmark_documents (
            benchmark VARCHAR NOT NULL,
            doc_id VARCHAR NOT NULL,
            PRIMARY KEY (benchmark, doc_id)
        )
        """,
    ],
]
