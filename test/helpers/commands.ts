/**
 * What the agent would execute in a step's output, modelled on microsoft/azure-pipelines-agent
 * src/Microsoft.VisualStudio.Services.Agent/Command.cs (`Command.TryParse`): lines come from
 * `ReadLine()` (so `\r`, `\n` and `\r\n` all end a line), the first `##vso[` anywhere in a line is parsed
 * and nothing after it, and the `IndexOf(string)` it uses is culture-sensitive, so control and format
 * characters between the letters are skipped (modelled by deleting them before searching).
 */

/** Characters a culture-sensitive IndexOf may skip. */
const IGNORABLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/** The agent's lines of a stream. */
export function agentLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

export interface FoundCommand {
  line: string;
  /** Where the first `##vso[` starts (0 for the task's own commands, written by task-lib). */
  at: number;
  /** `area.event`. */
  name: string;
  props: Record<string, string>;
  data: string;
}

/** Every command the agent would execute in `text`, per line (the first prefix only, as the agent does). */
export function executableCommands(text: string): FoundCommand[] {
  const out: FoundCommand[] = [];
  for (const raw of agentLines(text)) {
    const line = raw.replace(IGNORABLE, '');
    const at = line.indexOf('##vso[');
    if (at < 0) continue;
    const rb = line.indexOf(']', at);
    if (rb < 0) continue;
    const info = line.slice(at + 6, rb);
    const sp = info.indexOf(' ');
    const name = sp < 0 ? info : info.slice(0, sp);
    if (name.split('.').filter(Boolean).length !== 2) continue;
    const props: Record<string, string> = {};
    if (sp > 0) {
      for (const p of info.slice(sp + 1).split(';')) {
        const eq = p.indexOf('=');
        if (eq > 0) props[p.slice(0, eq)] = p.slice(eq + 1);
      }
    }
    out.push({ line: raw, at, name, props, data: line.slice(rb + 1) });
  }
  return out;
}

/** True when `text` holds a `##vso[` or `##[` the agent or its log viewer could act on, however disguised. */
export function hasCommandPrefix(text: string): boolean {
  return /##(vso)?\[/i.test(text.replace(IGNORABLE, ''));
}

/** The commands the tasks write themselves (through task-lib), and nothing else. */
export const OWN_COMMANDS = new Set([
  'task.debug',
  'task.issue',
  'task.logissue',
  'task.complete',
  'task.setvariable',
  'task.setsecret',
  'task.setprogress',
  'task.uploadsummary',
  'task.addattachment',
]);

/**
 * Problems with the commands in a step's output: a command that does not start its line (text that
 * carried a prefix), a command the task never writes, a variable outside `outputs`, or a prefix inside
 * the message of a command whose message is printed text (issues, completion, progress). The messages of
 * `task.debug` and `task.setvariable` may carry an output value verbatim: the agent parses only the first
 * prefix of a line, so that is data.
 */
export function commandProblems(text: string, outputs: readonly string[]): string[] {
  const problems: string[] = [];
  for (const c of executableCommands(text)) {
    if (c.at !== 0) problems.push(`command inside a printed line: ${c.line.slice(0, 160)}`);
    else if (!OWN_COMMANDS.has(c.name)) problems.push(`unexpected command ${c.name}: ${c.line.slice(0, 160)}`);
    else if (c.name === 'task.setvariable' && !outputs.includes(c.props.variable)) problems.push(`sets variable ${c.props.variable}`);
    else if (c.name !== 'task.debug' && c.name !== 'task.setvariable' && hasCommandPrefix(c.data))
      problems.push(`prefix in the message of ${c.name}: ${c.line.slice(0, 160)}`);
  }
  for (const raw of agentLines(text)) {
    if (!/^##vso\[/.test(raw) && hasCommandPrefix(raw)) problems.push(`prefix in a printed line: ${raw.slice(0, 160)}`);
  }
  return problems;
}
