import { readFileSync } from 'node:fs';
import { findUp } from './paths.js';

export const VERSION = (JSON.parse(readFileSync(findUp('package.json', import.meta.url), 'utf8')) as { version: string }).version;
