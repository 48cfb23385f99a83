// The one workflowsPath of every worker: export each workflow (and its messages) from here.
export * from './study-workflow';
export * from './run-workflow';
