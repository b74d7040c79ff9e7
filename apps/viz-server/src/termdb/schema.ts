// The subset of ProteinPaint's termdb schema this layer reads, in one place for the reader (which checks it
// at open) and the generator (which writes it). Table and column names are ProteinPaint's own.

/** Tables and the columns of each that the reader queries. */
export const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  terms: ['id', 'name', 'parent_id', 'jsondata', 'child_order', 'type', 'isleaf'],
  sampleidmap: ['id', 'name'],
  anno_categorical: ['sample', 'term_id', 'value'],
  anno_integer: ['sample', 'term_id', 'value'],
  anno_float: ['sample', 'term_id', 'value'],
  anno_multivalue: ['sample', 'term_id', 'value'],
  cohorts: ['cohort', 'name', 'subcohorts'],
  subcohort_samples: ['subcohort', 'sample'],
};

/**
 * The term whose annotation names a sample's cohorts, as ProteinPaint datasets store it: a multivalue term
 * (`{"ABC":1,"XYZ":1}` in anno_multivalue) or, in older datasets, a categorical one.
 */
export const COHORT_TERM_ID = 'subcohort';

/** CREATE TABLE statements, as ProteinPaint's termdb build writes them (foreign keys kept among these). */
export const TABLES_DDL = `
CREATE TABLE terms (
  id character varying(100) not null primary key,
  name character varying(100) not null,
  parent_id character varying(100),
  jsondata json not null,
  child_order integer not null,
  type text,
  isleaf integer,
  sample_type integer
);
CREATE TABLE sampleidmap (
  id integer not null,
  name character varying(100) not null,
  sample_type integer,
  aliases json,
  time float,
  primary key(id)
);
CREATE TABLE cohorts (
  cohort character primary key not null,
  name character not null,
  sample_count integer,
  subcohorts json
);
CREATE TABLE subcohort_samples (
  subcohort TEXT not null,
  sample integer not null,
  primary key(subcohort, sample),
  foreign key(sample) references sampleidmap(id) on delete cascade on update cascade,
  foreign key(subcohort) references cohorts(cohort) on delete cascade on update cascade
);
CREATE TABLE anno_categorical (
  sample integer not null,
  term_id character varying(100) not null,
  value character varying(255) not null,
  primary key(term_id, sample),
  foreign key(term_id) references terms(id),
  foreign key(sample) references sampleidmap(id)
);
CREATE TABLE anno_integer (
  sample integer not null,
  term_id character varying(100) not null,
  value integer not null,
  primary key(term_id, sample),
  foreign key(term_id) references terms(id) on delete cascade on update cascade,
  foreign key(sample) references sampleidmap(id) on delete cascade on update cascade
);
CREATE TABLE anno_float (
  sample integer not null,
  term_id character varying(100) not null,
  value REAL not null,
  primary key(term_id, sample),
  foreign key(term_id) references terms(id),
  foreign key(sample) references sampleidmap(id)
);
CREATE TABLE survival (
  sample integer not null,
  term_id TEXT not null,
  tte INT,
  exit_code INT,
  primary key(term_id, sample),
  foreign key(sample) references sampleidmap(id) on delete cascade on update cascade,
  foreign key(term_id) references terms(id) on delete cascade on update cascade
);
CREATE TABLE anno_multivalue (
  sample integer not null,
  term_id character varying(100) not null,
  value json not null,
  primary key(term_id, sample),
  foreign key(term_id) references terms(id),
  foreign key(sample) references sampleidmap(id)
);
`;

/**
 * Indexes that serve the reader: it loads each term's samples grouped by value (and survival times in order)
 * from these indexes alone, without sorting. Created after the data, which is much faster than maintaining
 * them row by row.
 */
export const INDEXES_DDL = `
CREATE INDEX anno_categorical_term_value ON anno_categorical(term_id, value, sample);
CREATE INDEX anno_integer_term_value ON anno_integer(term_id, value, sample);
CREATE INDEX anno_float_term_value ON anno_float(term_id, value, sample);
CREATE INDEX survival_term_tte ON survival(term_id, tte, exit_code, sample);
CREATE INDEX terms_parent ON terms(parent_id);
`;
