/** Writing the --html and --markdown files of `mlops-eval compare` (kept apart from the option parsing). */
import type { AnyMetric, Decision } from '../engine';
import { htmlReport, markdownSummary } from './reports';

export interface ReportFiles {
  html?: string;
  markdown?: string;
}

export class ReportWriteError extends Error {}

/** Writes the requested files; a file that cannot be written fails with its path and the reason. */
export function writeReports(
  decision: Decision<AnyMetric>,
  predictionsFile: string,
  files: ReportFiles,
  io: { writeFile?: (path: string, text: string) => void },
): void {
  if (!io.writeFile) throw new Error('this mlops-eval cannot write files');
  const write = (file: string, text: string): void => {
    try {
      io.writeFile!(file, text);
    } catch (e) {
      throw new ReportWriteError(`cannot write '${file}': ${(e as Error).message}`);
    }
  };
  if (files.html !== undefined) write(files.html, htmlReport(decision, predictionsFile));
  if (files.markdown !== undefined) write(files.markdown, markdownSummary(decision, predictionsFile));
}
