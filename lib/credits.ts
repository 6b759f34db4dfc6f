// What a job step costs, in credits (usage_records.credits_used, GET /api/v1/usage).
// A flat price per price tier (each action declares its tier), plus one credit per 1,000 AI tokens
// the step used. Failed or cancelled steps cost nothing: their usage is still recorded, with 0 credits.
//
// The tier is an action's price class and nothing else. The API shows it as the action's `category`
// and the jobs table stores it as `action_category`: names kept for compatibility.

export const PRICE_TIERS = ['transcribe', 'modify', 'process'] as const;
export type PriceTier = (typeof PRICE_TIERS)[number];

export const CREDITS_PER_PRICE_TIER: Record<PriceTier, number> = {
  process: 1,
  modify: 1,
  transcribe: 5,
};
export const CREDITS_PER_1000_AI_TOKENS = 1;

export function stepCredits(priceTier: string, aiTokens: number, succeeded: boolean): number {
  if (!succeeded) return 0;
  const base = CREDITS_PER_PRICE_TIER[priceTier as PriceTier] ?? 1;
  // numeric(10,4): four decimals.
  return Math.round((base + (aiTokens / 1000) * CREDITS_PER_1000_AI_TOKENS) * 10_000) / 10_000;
}
