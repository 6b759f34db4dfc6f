/** The clock, handed in so that tests may choose the time. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
