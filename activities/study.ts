import { Context, log } from '@temporalio/activity';
import { hashOf } from '../core/hash';
import { planStudy, type PlannedRun, type StudyPlan } from '../core/spec/plan';
import { pageOfRuns, planHead, planKeyOf, type PlanHead } from '../core/spec/plan-pages';
import { parseStudySpec } from '../core/spec/study-spec';
import type { ArtifactStore } from '../store';
import { getJson, getOrCreateJson } from '../store';

export interface RegisteredStudy {
  plan: StudyPlan;
  specKey: string;
  reused: boolean;
}

/** registerStudy with `planInStore`: the plan's head; its runs are read in pages with `planRuns`. */
export interface RegisteredStudyHead {
  head: PlanHead;
  specKey: string;
  reused: boolean;
}

/** Activities about the study as a whole: validating, recording and planning its spec. */
export function createStudyActivities(deps: { store: ArtifactStore }) {
  async function register(rawSpec: unknown): Promise<RegisteredStudy> {
    const spec = parseStudySpec(rawSpec);
    const studyHash = hashOf(spec);
    const plan = planStudy(spec, studyHash);
    const specKey = `studies/${studyHash}/spec.json`;
    const { reused } = await getOrCreateJson(deps.store, specKey, async () => spec);
    log.info('study registered', {
      studyHash,
      specKey,
      reused,
      runs: plan.runs.length,
      variants: plan.variants.length,
    });
    return { plan, specKey, reused };
  }
  return {
    /**
     * Validates a spec, stores its canonical form at `studies/<hash>/spec.json` and returns the plan (every
     * variant, run and test column). The hash names the study's report, so the same spec lands on the same
     * results however it was written.
     */
    async registerStudy(rawSpec: unknown): Promise<RegisteredStudy> {
      return register(rawSpec);
    },

    /**
     * registerStudy for a study of any size (StudyWorkflow since `patched('i21-plan-in-store')`): the whole plan
     * is stored at `studies/<hash>/plan-<plan hash>.json` and only its head is returned (a payload that does not
     * grow with the runs).
     */
    async registerStudyPlan(rawSpec: unknown): Promise<RegisteredStudyHead> {
      const { plan, specKey, reused } = await register(rawSpec);
      const planKey = planKeyOf(plan);
      await getOrCreateJson(deps.store, planKey, async () => plan);
      return { head: planHead(plan, planKey), specKey, reused };
    },

    /** One page of a stored plan's runs, from run `from` on (PLAN_PAGE_BYTES of JSON at most), and the next start. */
    async planRuns(input: { planKey: string; from: number }): Promise<{ runs: PlannedRun[]; next: number }> {
      const plan = await getJson<StudyPlan>(deps.store, input.planKey);
      return pageOfRuns(plan.runs, input.from);
    },

    /**
     * Which of `names` the workflow's namespace has as custom search attributes: the workflow upserts only
     * those (an unregistered one would fail its workflow task over and over). None when the server cannot say.
     */
    async registeredSearchAttributes(names: string[]): Promise<string[]> {
      const ctx = Context.current();
      try {
        const { customAttributes } = await ctx.client.connection.operatorService.listSearchAttributes({
          namespace: ctx.info.workflowNamespace,
        });
        return names.filter((n) => customAttributes && n in customAttributes);
      } catch (err) {
        log.warn('cannot list search attributes; the study is not indexed by them', { error: String(err) });
        return [];
      }
    },
  };
}
