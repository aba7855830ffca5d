/**
 * The one output path for text a task prints or writes that is not the task's own command: user inputs,
 * and everything that comes back from Databricks or MLflow (notebook exit values, errors and traces, run,
 * job and model names, tags, API error messages).
 *
 * Why: the agent executes a logging command found ANYWHERE in a line of the step's stdout or stderr.
 * microsoft/azure-pipelines-agent, src/Microsoft.VisualStudio.Services.Agent/Command.cs, `Command.TryParse`:
 *   `int prefixIndex = message.IndexOf(LoggingCommandPrefix);` with `LoggingCommandPrefix = "##vso["`
 * (the agent versions stored with that file call the culture-sensitive `IndexOf(string)`; task-lib's
 * externaloutput.js says current agents compare ordinally; we cover both), and the Node handler reads
 * stdout and stderr alike (src/Agent.Worker/Handlers/NodeHandler.cs: `StepHost.OutputDataReceived +=
 * OnDataReceived; StepHost.ErrorDataReceived += OnDataReceived;`). So a job
 * name or notebook output containing `##vso[task.setvariable variable=x]y` sets a pipeline variable when it
 * is echoed. `##[` starts the log viewer's formatting commands (`##[error]`, `##[group]`, `##[section]`...),
 * which would let such text dress up as the task's own errors or fold the log.
 *
 * The agent neutralises untrusted lines the same way when it must not run them (src/Agent.Sdk/ProcessInvoker.cs,
 * with DisableWorkerCommands: `Regex.Replace(line, "##vso", "**vso", RegexOptions.IgnoreCase)`); we do what it does, and extend it to
 * `##[` and to the characters a culture-sensitive `IndexOf` skips (control and format characters such as
 * U+200B between the `#`s would still match there), so the text stays readable and can never run.
 *
 * task-lib 5.x ships a filter of its own (externaloutput.js, `filterExternalOutput`: `##vso[` becomes
 * `##_vso[`); it matches the marker byte for byte only and leaves `##[` alone, so it is not used here.
 *
 * Only one `##vso[` per line is ever parsed (the first), so the message part of the task's own commands,
 * written by task-lib's command functions (`##vso[task.issue ...]<message>`), is inert data; it is
 * neutralised anyway so the agent's log shows the same text either way.
 */

/** Known secrets, kept so our own messages never contain them (the agent masks its log too). */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Replaces every registered secret in `text` with `***`. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** Characters a culture-sensitive comparison may ignore: controls, format characters, default-ignorables. */
const IGN = '[\\p{Cc}\\p{Cf}\\p{Default_Ignorable_Code_Point}]*';
/** `##vso[` or `##[`, case-insensitive, with ignorable characters anywhere inside. */
const COMMAND_PREFIX = new RegExp(`#${IGN}#(${IGN}v${IGN}s${IGN}o)?${IGN}\\[`, 'giu');

/** Turns the `#` of every logging-command prefix in `text` into `*`; every other character is kept. */
function replacePrefixes(text: string, hash: string): string {
  let out = text;
  // Replacing only ever removes `#`s, so a second pass can find nothing new; loop for certainty, not need.
  for (let i = 0; i < 4 && COMMAND_PREFIX.test(out); i++) {
    COMMAND_PREFIX.lastIndex = 0;
    out = out.replace(COMMAND_PREFIX, (m) => m.replace(/#/g, hash));
  }
  COMMAND_PREFIX.lastIndex = 0;
  return out;
}

/** Text with every `##vso[` / `##[` (and their disguised forms) made inert: `##vso[` becomes `**vso[`. */
export function neutraliseCommands(text: string): string {
  return replacePrefixes(text, '*');
}

/** True when `text` holds something the agent (or its log viewer) could take for a logging command. */
export function containsCommandPrefix(text: string): boolean {
  const found = COMMAND_PREFIX.test(text);
  COMMAND_PREFIX.lastIndex = 0;
  return found;
}

/** Every line a task prints goes through here: known secrets become `***`, then commands are neutralised. */
export function printable(text: string): string {
  return neutraliseCommands(redact(text));
}

/**
 * The same for Markdown (the build summary): `&#35;` renders as `#`, so the reader sees the original text,
 * while the file holds no `##vso[` for a later `cat` of it in a script step to run.
 */
export function inertMarkdown(markdown: string): string {
  return replacePrefixes(redact(markdown), '&#35;');
}

/**
 * The same for JSON files (the decision record): `#` only ever occurs inside JSON strings, and `\u0023` is
 * the same string to every JSON parser, so the data is unchanged while the bytes hold no `#` at all.
 */
export function inertJson(json: string): string {
  return json.replace(/#/g, '\\u0023');
}

/** Cuts an echoed value to `max` characters, saying how many were left out: `abc…(1234 more)`. */
export function clip(text: string, max = 200): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…(${chars.length - max} more)`;
}
