/** Rendering of the Evaluate & Promote decision record: shared by the build results tab, the static report and the task summary. */
export {
  DECISION_RECORD_SCHEMA,
  EVALUATION_ATTACHMENT_NAME,
  EVALUATION_ATTACHMENT_TYPE,
  isDecisionRecordSchema,
  READABLE_RECORD_SCHEMAS,
  readEvaluationRecord,
  RecordError,
} from './record';
export type { ContextView, DecisionKind, EvaluationView, GuardrailView, LinkView, ModelView, SliceReportView, SliceView, VersusBaselineView } from './record';
export { renderErrorBody, renderReportBody, renderReportHtml } from './html';
export type { ReportHtmlOptions } from './html';
export { renderDistributionSvg, MARKDOWN_SVG_MAX_CHARS } from './svg';
export type { DistributionSvgOptions } from './svg';
export { REPORT_CSS } from './styles';
export { decisionSentence, formatDelta, formatInterval, formatMetric, formatPercent, metricFormat } from './format';
export { checksMarkdown, mdCell } from './markdown';
export { parseColour, themeFromBackground } from './theme';
