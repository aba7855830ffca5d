/**
 * The decision record's identity, shared by its writer (Evaluate & Promote, evaluate/report.ts) and its
 * readers (the promote action, Deploy Model to Serving): the schema tag inside evaluation.json, and the
 * build attachment it is published as.
 */
export const DECISION_RECORD_SCHEMA = 'mlopspipelines.evaluation/v1';
export const ATTACHMENT_TYPE = 'mlopspipelines.evaluation';
export const ATTACHMENT_NAME = 'evaluation.json';
