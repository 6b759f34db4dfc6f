// What a job step costs, in credits (usage_records.credits_used, GET /api/v1/usage).
// A flat price per action category, plus one credit per 1,000 AI tokens the step used.
// Failed or cancelled steps cost nothing: their usage is still recorded, with 0 credits.

export const CREDITS_PER_CATEGORY: Record<string, number> = {
  process: 1,
  modify: 1,
  transcribe: 5,
};
export const CREDITS_PER_1000_AI_TOKENS = 1;

export function stepCredits(category: string, aiTokens: number, succeeded: boolean): number {
  if (!succeeded) return 0;
  const base = CREDITS_PER_CATEGORY[category] ?? 1;
  // numeric(10,4): four decimals.
  return Math.round((base + (aiTokens / 1000) * CREDITS_PER_1000_AI_TOKENS) * 10_000) / 10_000;
}
