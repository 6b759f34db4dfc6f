import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The job's custom search attributes, so operators find jobs in the Temporal Web UI
 * (e.g. `MediaflowOrganizationId='…' AND MediaflowJobStatus='failed'`). They must be registered in
 * the namespace: `npm start` and the tests do it (scripts/search-attributes.ts), a cluster with
 * deploy/helm/mediaflow/files/register-search-attributes.sh (the chart's hook runs it).
 */
export const searchAttributes = {
  organizationId: defineSearchAttributeKey('MediaflowOrganizationId', SearchAttributeType.KEYWORD),
  jobStatus: defineSearchAttributeKey('MediaflowJobStatus', SearchAttributeType.KEYWORD),
  actionIds: defineSearchAttributeKey('MediaflowActionIds', SearchAttributeType.KEYWORD_LIST),
  mediaType: defineSearchAttributeKey('MediaflowMediaType', SearchAttributeType.KEYWORD),
} as const;

/** Name → type as `temporal operator search-attribute create` spells it. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, string> = {
  MediaflowOrganizationId: 'Keyword',
  MediaflowJobStatus: 'Keyword',
  MediaflowActionIds: 'KeywordList',
  MediaflowMediaType: 'Keyword',
};
