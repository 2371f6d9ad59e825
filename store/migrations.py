"""Versioned schema of curation.duckdb.

`MIGRATIONS[i]` takes a workspace from version i to i + 1. Entries are only ever appended: an older
workspace is brought forward on open by running the entries it has not seen, in one transaction.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
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
]
