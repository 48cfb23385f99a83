/**
 * How test/readme/check-readme.ts treats each command of README.md: run it as written (only its input paths
 * pointed at files the check makes, its placeholders filled with what earlier commands printed), or skip it
 * with the reason. Every README command must match exactly one rule (test/unit/readme-commands.test.ts), so a
 * new command is either checked or explicitly excused.
 */

/** What the runner offers a rule. */
export interface RuleContext {
  /** Folder of the stand-in inputs (test/readme/readme-inputs.ts). */
  inputs: string;
  /** Values for `<manifestKey>`, `<workflow-id>`, ...: set from what earlier commands printed. */
  values: Record<string, string>;
  /** Runs a helper command (not a README line) in the repository; rejects on a non-zero exit. */
  sh(command: string, timeoutS?: number): Promise<string>;
  /** Runs at the end, whatever happened (stop what a command started, delete what it created). */
  onExit(cleanup: () => Promise<unknown>): void;
}

export interface Rule {
  match: RegExp;
  /** Why the check cannot run this line here. */
  skip?: string;
  /** The line ends in `&`: run it in the background for the rest of the check; it must still be alive at the end. */
  background?: boolean;
  /** Option values that name input files (`--path imgs`), and the stand-in (relative to RuleContext.inputs). */
  inputs?: Record<string, string>;
  /** Placeholders this rule fills from another entry of RuleContext.values (`<workflow-id>` → `<cancel-id>`). */
  values?: Record<string, string>;
  before?(ctx: RuleContext): Promise<void>;
  /** What the output must show, beyond a zero exit. */
  expect?: RegExp;
  after?(output: string, ctx: RuleContext): Promise<void>;
}

const CLUSTER =
  'needs a Temporal cluster and an S3 bucket of your own; test/integration/no-shared-disk.test.ts runs this setup';
const SECURED = 'needs Temporal Cloud or a secured cluster and a private bucket (credentials, certificates)';

/** Polls `bgstudy status` until the study is no longer running. */
async function waitClosed(ctx: RuleContext, id: string, timeoutS: number): Promise<string> {
  for (const deadline = Date.now() + timeoutS * 1000; Date.now() < deadline;) {
    const out = await ctx.sh(`npx bgstudy status ${id}`);
    if (!/: RUNNING /.test(out)) return out;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`study ${id} still running after ${timeoutS} s`);
}

export const RULES: Rule[] = [
  // .ci/run types these two itself, before this check.
  { match: /^npm ci && npm start$/, skip: 'the first command: .ci/run runs it before this check' },
  { match: /^npm test$/, skip: 'the second command: .ci/run runs it after this check' },
  { match: /^npm start$/, skip: 'the first command: .ci/run runs it before this check' },

  // "With the Temporal CLI": a dev server, two workers in the background, the raw CLI.
  {
    match: /^npx bgstudy services up$/,
    expect: /Temporal: /,
    after: async (_out, ctx) => ctx.onExit(() => ctx.sh('npx bgstudy services down')),
  },
  { match: /^node bin\/bgstudy\.cjs worker --queue (cpu|gpu) &$/, background: true },
  {
    match: /^npx bgstudy temporal workflow start .*--workflow-id quick-1 /,
    // A rerun of this check on one machine: the id is free again once the last quick-1 has closed.
    before: async (ctx) =>
      void (await ctx.sh('npx bgstudy temporal workflow result --workflow-id quick-1').catch(() => '')),
    // The workers above must run the study to the end (every stage `npm start` stored is found, none recomputed).
    after: async (_out, ctx) => {
      const result = await ctx.sh(
        'npx bgstudy temporal workflow result --workflow-id quick-1 --output json',
        1800,
      );
      if (!/"status":\s*"(WORKFLOW_EXECUTION_STATUS_)?COMPLETED"/i.test(result))
        throw new Error(`quick-1 did not complete:\n${result.slice(-2000)}`);
    },
  },
  { match: /^npx bgstudy temporal workflow query --workflow-id quick-1 --name progress$/, expect: /stage/ },
  {
    match: /^npx bgstudy temporal workflow list --query 'BgStudy="quick"'$/,
    // visibility is eventually consistent: the dev server indexes a closed workflow within a second or so
    before: async (ctx) => {
      for (let i = 0; i < 20; i++) {
        if (
          (await ctx.sh(`npx bgstudy temporal workflow list --query 'BgStudy="quick"'`)).includes('quick-1')
        )
          return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    },
    expect: /quick-1/,
  },
  {
    match: /^npx bgstudy temporal schedule create --schedule-id bgstudy-quick-nightly /,
    before: async (ctx) =>
      void (await ctx
        .sh('npx bgstudy temporal schedule delete --schedule-id bgstudy-quick-nightly')
        .catch(() => '')),
    after: async (_out, ctx) => {
      ctx.onExit(() => ctx.sh('npx bgstudy temporal schedule delete --schedule-id bgstudy-quick-nightly'));
      const d = await ctx.sh(
        'npx bgstudy temporal schedule describe --schedule-id bgstudy-quick-nightly --output json',
      );
      if (!/"catchupWindow":\s*"3600s"/.test(d))
        throw new Error(`schedule's catch-up window is not 1h:\n${d}`);
    },
  },

  // "Datasets and variants on their own", "Masks from bounding boxes": stand-in files for the inputs.
  {
    match: /^npx bgstudy data synth --size 32 -p 0\.9$/,
    expect: /(prepared|found) dataset/,
    // variants and the leak check below need a dataset of the classic size; the imports are tiny stand-ins
    after: async (_out, ctx) => void (ctx.values['<synthetic>'] = ctx.values['<manifestKey>']!),
  },
  { match: /^npx bgstudy data synth --size 32 -p 0 --shadow 0\.9$/, expect: /(prepared|found) dataset/ },
  {
    match: /^npx bgstudy data import in9 --path ~\/data\/bg_challenge$/,
    inputs: { '~/data/bg_challenge': 'bg_challenge' },
    expect: /(prepared|found) dataset .*3 classes/,
  },
  {
    match: /^npx bgstudy data import folder --path imgs --mask-path masks$/,
    inputs: { imgs: 'imgs', masks: 'masks' },
    expect: /(prepared|found) dataset .*3 classes/,
  },
  {
    match: /^npx bgstudy data import pixel-imagenet --images imagenet --masks pixel-imagenet /,
    inputs: { imagenet: 'imagenet', 'pixel-imagenet': 'pixel-imagenet' },
    expect: /(prepared|found) dataset .*2 classes/,
  },
  { match: /^npx bgstudy variants list$/, expect: /mixed_rand[\s\S]*bg_blur/ },
  {
    match: /^npx bgstudy variants make <manifestKey> xiao bg_blur:sigma=4 /,
    values: { '<manifestKey>': '<synthetic>' },
    expect: /bg_blur/,
  },
  { match: /^npx bgstudy data show <manifestKey> --skipped$/, expect: /skipped: \d+/ },
  {
    match: /^npx bgstudy data check-leaks <manifestKey>$/,
    values: { '<manifestKey>': '<synthetic>' },
    expect: /chance/,
  },
  {
    match: /^npx bgstudy variants export <manifestKey> --out sheet\.png$/,
    values: { '<manifestKey>': '<synthetic>' },
    inputs: { 'sheet.png': 'sheet.png' },
  },
  {
    match: /^npx bgstudy data export <manifestKey> --out exported$/,
    values: { '<manifestKey>': '<synthetic>' },
    // Into the check's scratch folder, not the checkout (where lint would then read its JSON).
    inputs: { exported: 'exported' },
    expect: /images in \d+ files -> /,
  },
  {
    match: /^npx bgstudy masks compare folder --path imgs --mask-path masks --boxes annotations --size 224$/,
    inputs: { imgs: 'imgs', masks: 'masks', annotations: 'annotations' },
    expect: /IoU|iou/,
  },
  { match: /^npx bgstudy masks show <manifestKey> --all$/, expect: /flagged masks: \d+/ },

  // "Many machines" and "A secured cluster": someone else's infrastructure.
  { match: /^BGSTUDY_QUEUE=(cpu|gpu) TEMPORAL_ADDRESS=temporal\.internal:7233 /, skip: CLUSTER },
  { match: /^export (TEMPORAL_|BGSTUDY_S3_PATH_STYLE|BGSTUDY_STORE=s3 |AWS_PROFILE)/, skip: SECURED },
  {
    match: /^node bin\/bgstudy\.cjs worker --queue cpu & +node bin\/bgstudy\.cjs worker --queue gpu &$/,
    skip: SECURED,
  },
  { match: /^npx bgstudy start --spec study\.json && npx bgstudy status <workflow-id>$/, skip: SECURED },

  // "Running a study": the table, run after the blocks (the workers above still serve the queues).
  {
    match: /^npx bgstudy run --preset quick$/,
    expect: /study quick completed/,
    after: async (out, ctx) => {
      const id = /workflow (study-\S+)/.exec(out)?.[1];
      if (!id) throw new Error('bgstudy run printed no workflow id');
      ctx.values['<workflow-id>'] = id;
      ctx.values['<study-hash or workflow-id>'] = id;
    },
  },
  {
    match: /^npx bgstudy run --spec study\.json$/,
    inputs: { 'study.json': 'study.json' },
    expect: /completed/,
  },
  { match: /^npx bgstudy status <workflow-id>$/, expect: /COMPLETED/ },
  {
    match: /^npx bgstudy cancel <workflow-id>$/,
    // a study of its own to cancel: the quick spec under another name, started on the workers above
    before: async (ctx) => {
      const spec = `${ctx.inputs}/cancel-me.json`;
      await ctx.sh(
        `node -e 'const s=require("./presets/quick.json"); s.name="readme-cancel"; require("fs").writeFileSync(process.argv[1], JSON.stringify(s))' ${spec}`,
      );
      ctx.values['<cancel-id>'] = (await ctx.sh(`npx bgstudy start --spec ${spec}`))
        .trim()
        .split('\n')
        .pop()!;
    },
    values: { '<workflow-id>': '<cancel-id>' },
    expect: /cancel requested/,
    after: async (_out, ctx) => {
      const closed = await waitClosed(ctx, ctx.values['<cancel-id>']!, 300);
      if (/: COMPLETED /.test(closed) && !/cancel/i.test(closed))
        throw new Error(`cancelled study: ${closed}`);
    },
  },
  { match: /^npx bgstudy report <study-hash or workflow-id> \[--open\]$/, expect: /report/ },
  {
    match: /^npx bgstudy schedule create --cron "0 2 \* \* \*" --spec study\.json$/,
    inputs: { 'study.json': 'study.json' },
    expect: /schedule \S+ created/,
    after: async (out, ctx) => {
      const id = /schedule (\S+) created/.exec(out)![1]!;
      ctx.onExit(() => ctx.sh(`npx bgstudy schedule delete ${id}`));
      if (!(await ctx.sh('npx bgstudy schedule list')).includes(id))
        throw new Error(`schedule ${id} not listed`);
    },
  },
  {
    match: /^npx bgstudy (data synth|data import) \.\.\.$/,
    skip: 'an index to "Datasets and variants on their own", whose commands are checked',
  },
  {
    match: /^npx bgstudy variants make <manifestKey> xiao$/,
    values: { '<manifestKey>': '<synthetic>' },
    expect: /mixed_rand/,
  },
];

export function ruleFor(command: string): Rule[] {
  return RULES.filter((r) => r.match.test(command));
}
