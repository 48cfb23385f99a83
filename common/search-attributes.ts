import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes of a study (Keyword): `temporal workflow list --query 'BgStudy="quick"'` and the
 * UI's filter find studies by name, spec hash, dataset or preset. The dev servers this project starts register
 * them; a cluster needs `temporal operator search-attribute create` once (README). A workflow sets only the
 * ones its namespace has, so an unregistered one never stalls a study.
 */
export const STUDY_NAME = defineSearchAttributeKey('BgStudy', SearchAttributeType.KEYWORD);
export const STUDY_SPEC_HASH = defineSearchAttributeKey('BgStudySpecHash', SearchAttributeType.KEYWORD);
export const STUDY_DATASET = defineSearchAttributeKey('BgStudyDataset', SearchAttributeType.KEYWORD);
export const STUDY_PRESET = defineSearchAttributeKey('BgStudyPreset', SearchAttributeType.KEYWORD);

export const STUDY_SEARCH_ATTRIBUTES = [STUDY_NAME, STUDY_SPEC_HASH, STUDY_DATASET, STUDY_PRESET] as const;
