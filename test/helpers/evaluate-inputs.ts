/**
 * Evaluate & Promote's inputs parsed as the task parses them (task-lib-like input and variable sources), and
 * the check that a parse fails with an InputError naming the input, with an exact message or a pattern.
 */
import assert from 'node:assert/strict';
import { InputError, Inputs, mapInputSource } from '../../src/pipeline/inputs';
import { parseEvaluateInputs, type EvaluateInputs } from '../../src/tasks/evaluate/inputs';

type Values = Record<string, string | undefined>;

export interface EvaluateInputsParser {
  parse(over?: Values, vars?: Values): EvaluateInputs;
  /** Parsing `over` fails on `input` with exactly `message` (a string) or a message matching it (a RegExp). */
  rejects(over: Values, input: string, message: string | RegExp): void;
}

export function evaluateInputsParser(base: Values, defaultVars: Values): EvaluateInputsParser {
  const parse = (over: Values = {}, vars: Values = defaultVars): EvaluateInputs => parseEvaluateInputs(new Inputs(mapInputSource({ ...base, ...over }, vars)));
  const rejects = (over: Values, input: string, message: string | RegExp): void => {
    assert.throws(
      () => parse(over),
      (e: unknown) => {
        assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
        assert.equal(e.input, input);
        if (typeof message === 'string') assert.equal(e.message, message);
        else assert.match(e.message, message);
        return true;
      },
    );
  };
  return { parse, rejects };
}
