/**
 * `koubou nats-config --out DIR [--nodes a,b] [--prefix koubou] [--listen HOST:PORT] [--tls-cert F --tls-key F]`:
 * writes a nats-server config with one nkey user per role (coordinator, each node, services) holding only the subjects
 * it needs, and each user's seed file (mode 0600). Seed files already in DIR are kept, so running it again with a longer
 * --nodes list adds nodes without changing the keys already handed out.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createUser, fromSeed } from 'nkeys.js';
import { NODE_ID } from '../../nats/node-protocol.js';
import { coordinatorPermissions, nodePermissions, servicePermissions, type RolePermissions } from '../../nats/permissions.js';
import { renderServerConfig, type ServerTls } from '../../nats/server-config.js';
import { positionals } from '../args.js';
import { CliError, EXIT, UsageError } from '../../client/errors.js';
import { json } from '../format.js';
import { out, parse, printHelp } from './shared.js';

const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

interface Written {
  role: string;
  seed_file: string;
  public_key: string;
  /** False when the seed file was already there and kept. */
  created: boolean;
}

export async function natsConfig(argv: string[]): Promise<number> {
  const { values, positionals: given } = parse('nats-config', argv);
  if (values.help) return printHelp('nats-config');
  positionals('nats-config', given, []);
  if (!values.out) throw new UsageError('--out DIR is required', 'nats-config');
  const prefix = values.prefix!;
  const listen = values.listen!;
  if (!PREFIX.test(prefix)) throw new UsageError(`--prefix may hold letters, digits, '_', '-' and single dots, got ${JSON.stringify(prefix)}`, 'nats-config');
  if (!/^[^\s:]*:\d{1,5}$/.test(listen)) throw new UsageError(`--listen must be HOST:PORT, got ${JSON.stringify(listen)}`, 'nats-config');
  const nodes = nodeIds(values.nodes);
  const tls = tlsSettings(values);
  const dir = resolve(values.out);
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const users: { role: string; file: string; permissions: RolePermissions }[] = [
    { role: 'coordinator', file: 'coordinator.nk', permissions: coordinatorPermissions(prefix) },
    ...nodes.map((id) => ({ role: `node ${id}`, file: `node-${id}.nk`, permissions: nodePermissions(prefix, id) })),
    { role: 'services', file: 'service.nk', permissions: servicePermissions(prefix) },
  ];
  const written: Written[] = users.map((u) => ({ role: u.role, ...seedFile(join(dir, u.file)) }));
  const configFile = join(dir, 'nats.conf');
  const text = renderServerConfig({
    prefix,
    listen,
    users: users.map((u, i) => ({ comment: u.role, nkey: written[i]!.public_key, permissions: u.permissions })),
    tls,
  });
  // Written whole or not at all: a half-written config would lock every client out.
  writeFileSync(`${configFile}.tmp`, text, { mode: 0o644 });
  renameSync(`${configFile}.tmp`, configFile);

  out(values.json ? json({ config_file: configFile, users: written }) : summary(configFile, written, prefix, tls !== null));
  return EXIT.ok;
}

function nodeIds(raw: string | undefined): string[] {
  const ids = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!NODE_ID.test(id)) throw new UsageError(`--nodes: node ids may hold letters, digits, "-" and "_" (at most 64), got ${JSON.stringify(id)}`, 'nats-config');
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) throw new UsageError(`--nodes names ${JSON.stringify(twice)} twice`, 'nats-config');
  return ids;
}

function tlsSettings(values: { 'tls-cert'?: string; 'tls-key'?: string }): ServerTls | null {
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if (!cert && !key) return null;
  if (!cert || !key) throw new UsageError('--tls-cert and --tls-key go together', 'nats-config');
  for (const [flag, file] of [['--tls-cert', cert], ['--tls-key', key]] as const) {
    if (!existsSync(file)) throw new UsageError(`${flag}: no such file ${file}`, 'nats-config');
  }
  return { certFile: resolve(cert), keyFile: resolve(key) };
}

/** Keeps a seed file that exists (checking it holds a user seed); otherwise creates one, readable by its owner only. */
function seedFile(file: string): { seed_file: string; public_key: string; created: boolean } {
  if (existsSync(file)) {
    try {
      const pair = fromSeed(new TextEncoder().encode(readFileSync(file, 'utf8').trim()));
      const publicKey = pair.getPublicKey();
      if (!publicKey.startsWith('U')) throw new Error('not a user seed');
      chmodSync(file, 0o600);
      return { seed_file: file, public_key: publicKey, created: false };
    } catch (err) {
      throw new CliError(`${file} exists but does not hold an nkey user seed (${(err as Error).message}); move it away to make a new one`);
    }
  }
  const pair = createUser();
  // 'wx': never overwrite a seed that appeared meanwhile.
  writeFileSync(file, `${new TextDecoder().decode(pair.getSeed())}\n`, { mode: 0o600, flag: 'wx' });
  return { seed_file: file, public_key: pair.getPublicKey(), created: true };
}

function summary(configFile: string, written: Written[], prefix: string, tls: boolean): string {
  const scheme = tls ? 'tls' : 'nats';
  const width = Math.max(...written.map((w) => w.role.length));
  const lines = written.map((w) => `  ${w.role.padEnd(width)}  ${w.seed_file}${w.created ? '' : '  (kept)'}`);
  const service = written.at(-1)!.seed_file;
  return [
    `wrote ${configFile} and one seed file per user (mode 0600; give each only to its own machine):`,
    ...lines,
    '',
    `start the server:  nats-server -c ${configFile}`,
    `coordinator:       KOUBOU_NATS_URL=${scheme}://HOST:4222 KOUBOU_NATS_NKEY_SEED_FILE=${written[0]!.seed_file} koubou start`,
    `each node:         koubou-node --nats ${scheme}://HOST:4222 --id ID --nkey-seed-file node-ID.nk --prefix ${prefix} ...`,
    `other services:    nats --server ${scheme}://HOST:4222 --nkey ${service} req ${prefix}.task.delegate '{"prompt":"…"}'`,
    '',
  ].join('\n');
}
