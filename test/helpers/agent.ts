// The agent simulator is shared with `npm run demo`, so it lives in src/demo/agent-runner.ts.
export * from '../../src/demo/agent-runner';
