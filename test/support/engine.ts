// Tests that need the real engine fail, never skip, when it is missing: `npm test` builds the
// addon (npm run build:native) and the demo model ships in assets/models/demo-k2, so a missing
// engine is a broken build, not something this machine cannot have.
import { addonPath } from '../../main/engine/native.ts';

/** The built addon's path; throws, saying what needs it and how to build it, when there is none. */
export function requireAddon(what: string): string {
  const path = addonPath();
  if (!path) throw new Error(`the native engine is not built (npm run build:native; npm test builds it): ${what} needs it`);
  return path;
}
