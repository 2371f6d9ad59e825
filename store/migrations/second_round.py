"""Schema versions 10 onwards: curation patterns, near-duplicates, trainings, the data version, judgments merged
across workspaces. New entries are appended here."""

from __future__ import annotations

SECOND_ROUND: list[list[str]] = [
    # 10: curation patterns (exclude/include URL patterns and title/division/document-type patterns, global or per
    # collection), append-only like judgments: every change is a new row, the newest row per pattern counts;
    # rules verdicts keep the title a title pattern gave
    [
        "CREATE SEQUENCE IF NOT EXISTS pattern_row_seq START 1",
        """
        CREATE TABLE IF NOT EXISTS patterns (
            row_id BIGINT PRIMARY KEY DEFAULT nextval('pattern_row_seq'),
            pattern_id VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            scope VARCHAR,
            match VARCHAR NOT NULL,
            pattern VARCHAR NOT NULL,
            value VARCHAR,
            provenance VARCHAR NOT NULL,
            active BOOLEAN NOT NULL,
            removed BOOLEAN NOT NULL DEFAULT false,
            reason VARCHAR,
            author VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT now()
        )
        """,
        """
        CREATE VIEW current_patterns AS
        SELECT * FROM patterns QUALIFY row_number() OVER (PARTITION BY pattern_id ORDER BY row_id DESC) = 1
        """,
        "ALTER TABLE verdicts ADD COLUMN title VARCHAR",
    ],
    # 11: near-duplicate clusters (MinHash over word shingles, or a retriever's vectors): one row per member, the
    # suggested canonical document flagged with the reason it was chosen; a new run of a method replaces its rows
    [
        """
        CREATE TABLE IF NOT EXISTS duplicate_clusters (
            method VARCHAR NOT NULL,
            cluster_id VARCHAR NOT NULL,
            doc_id VARCHAR NOT NULL,
            canonical BOOLEAN NOT NULL,
            reason VARCHAR,
            similarity DOUBLE,
            created_at TIMESTAMP NOT NULL DEFAULT now(),
            PRIMARY KEY (method, cluster_id, doc_id)
        )
        """,
    ],
    # 12: fine-tuning trainings (sources and weights, loss, hyperparameters, base revision, device, duration)
    # and the metrics of each evaluated checkpoint on each eval set
    [
        """
        CREATE TABLE IF NOT EXISTS trainings (
            training_id VARCHAR PRIMARY KEY,
            retriever VARCHAR NOT NULL,
            best_retriever VARCHAR,
            base VARCHAR NOT NULL,
            base_revision VARCHAR,
            sources JSON NOT NULL,
            loss VARCHAR NOT NULL,
            hyperparameters JSON NOT NULL,
            tool_version VARCHAR,
            device VARCHAR NOT NULL,
            processes INTEGER NOT NULL,
            steps INTEGER,
            final_loss DOUBLE,
            select_metric VARCHAR,
            best_step INTEGER,
            losses JSON,
            started_at TIMESTAMP NOT NULL,
            seconds DOUBLE
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS training_checkpoints (
            training_id VARCHAR NOT NULL,
            step INTEGER NOT NULL,
            epoch DOUBLE,
            benchmark VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            value DOUBLE NOT NULL,
            PRIMARY KEY (training_id, step, benchmark, metric)
        )
        """,
    ],
    # 13: the workspace's data version, one more with every committed write block (`Database.version`): pages
    # cache counts, tables and map points under it instead of recomputing them on every rerun
    [
        "CREATE TABLE IF NOT EXISTS data_version (version BIGINT NOT NULL)",
        "INSERT INTO data_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM data_version)",
    ],
    # 14: the judgment in force is the one made last in time (rows merged from another workspace get new ids
    # but keep when they were made); ties within one transaction fall back to the id
    [
        """
        CREATE OR REPLACE VIEW current_judgments AS
        SELECT * FROM judgments j
        WHERE kind <> 'undo' AND NOT EXISTS (SELECT 1 FROM judgments u WHERE u.undoes = j.judgment_id)
        QUALIFY row_number() OVER (
            PARTITION BY query_set, query_id, doc_id, annotator ORDER BY created_at DESC, judgment_id DESC) = 1
        """,
    ],
]
