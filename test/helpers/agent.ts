// The agent simulator is shared with `npm run demo`, so it lives in demo/agent-runner.ts.
export * from '../../demo/agent-runner';
