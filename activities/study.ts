import { log } from '@temporalio/activity';
import { hashOf } from '../core/hash';
import { parseStudySpec } from '../core/spec/study-spec';
import type { ArtifactStore } from '../store';
import { getOrCreateJson } from '../store';

export interface RegisteredStudy {
  studyHash: string;
  specKey: string;
  name: string;
  reused: boolean;
}

/** Activities about the study as a whole: validating and recording its spec. */
export function createStudyActivities(deps: { store: ArtifactStore }) {
  return {
    /**
     * Validates a spec and stores its canonical form at `studies/<hash>/spec.json`. The hash names every
     * later artifact of the study, so the same spec submitted twice lands on the same results.
     */
    async registerStudy(rawSpec: unknown): Promise<RegisteredStudy> {
      const spec = parseStudySpec(rawSpec);
      const studyHash = hashOf(spec);
      const specKey = `studies/${studyHash}/spec.json`;
      const { reused } = await getOrCreateJson(deps.store, specKey, async () => spec);
      log.info('study registered', { studyHash, specKey, reused, store: deps.store.location });
      return { studyHash, specKey, name: spec.name, reused };
    },
  };
}
