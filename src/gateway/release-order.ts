/**
 * Release versions as semver orders them (semver.org §11): `major.minor.patch`, numbers compared as numbers, a
 * pre-release (`-rc1`, `-rc.2`) before its release, its dot-separated identifiers compared one by one (numeric ones as
 * numbers and before alphanumeric ones), build metadata (`+…`) ignored.
 */

interface Release {
  core: [number, number, number];
  /** Pre-release identifiers; empty for a release. */
  pre: string[];
}

const RELEASE = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;

/** The parts of a version string, or null when it is not one (text an LLM server made up, an empty string). */
function parseRelease(version: string): Release | null {
  const m = RELEASE.exec(version.trim());
  if (!m) return null;
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] === undefined ? [] : m[4].split('.') };
}

/** Negative when a is older than b, positive when newer, 0 when they are the same release. */
function compareReleases(a: Release, b: Release): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i]! - b.core[i]!;
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i]!;
    const y = b.pre[i]!;
    if (x === y) continue;
    const xNum = /^\d+$/.test(x);
    const yNum = /^\d+$/.test(y);
    if (xNum && yNum) return Number(x) - Number(y);
    if (xNum !== yNum) return xNum ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.pre.length - b.pre.length;
}

/**
 * The oldest of `versions` that says which release it is (without a leading "v"); null when none does. Left out: strings that are
 * not versions, and 0.0.0, which is what an Ollama built from source reports (its version/version.go default) and so
 * says nothing about its features.
 */
export function oldestRelease(versions: readonly string[]): string | null {
  let oldest: { text: string; release: Release } | null = null;
  for (const text of versions) {
    const release = parseRelease(text);
    if (release === null || (release.core.every((n) => n === 0) && release.pre.length === 0)) continue;
    if (oldest === null || compareReleases(release, oldest.release) < 0) oldest = { text: text.trim().replace(/^v/, ''), release };
  }
  return oldest?.text ?? null;
}
