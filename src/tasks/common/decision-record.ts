/**
 * The decision record's identity, for its writer (Evaluate & Promote, evaluate/report.ts) and its readers
 * (the promote action, Deploy Model to Serving): the schema tag inside evaluation.json and the build
 * attachment it is published as. Defined once, beside the record's reader in src/report/record.ts (which the
 * build results tab shares), and named here as the tasks use them.
 */
export {
  DECISION_RECORD_SCHEMA,
  EVALUATION_ATTACHMENT_NAME as ATTACHMENT_NAME,
  EVALUATION_ATTACHMENT_TYPE as ATTACHMENT_TYPE,
  isDecisionRecordSchema,
  READABLE_RECORD_SCHEMAS,
} from '../../report/record';
