/** Renders a nats-server configuration file (its own HOCON-like format) with one nkey user per role. */
import type { RolePermissions } from './permissions.js';

export interface ServerUser {
  /** What the config says above the user: the role and, for a node, its id. */
  comment: string;
  /** The user's public nkey (`U…`); the seed stays in its own file. */
  nkey: string;
  permissions: RolePermissions;
}

export interface ServerTls {
  certFile: string;
  keyFile: string;
}

export interface ServerConfigInput {
  prefix: string;
  /** host:port the server listens on. */
  listen: string;
  users: ServerUser[];
  tls: ServerTls | null;
}

const str = (s: string) => JSON.stringify(s);
const list = (items: string[]) => `[${items.map(str).join(', ')}]`;

/** The whole file. Strings are JSON-quoted, which the nats-server config parser reads as quoted strings. */
export function renderServerConfig(input: ServerConfigInput): string {
  const users = input.users.map((u) => {
    const p = u.permissions;
    const responses = p.allowResponses ? ', allow_responses: true' : '';
    return [
      `    # ${u.comment}`,
      `    { nkey: ${str(u.nkey)}, permissions: {`,
      `        publish: { allow: ${list(p.publish)} }, subscribe: { allow: ${list(p.subscribe)} }${responses} } }`,
    ].join('\n');
  });
  const tls = input.tls
    ? [
        '',
        '# Every client must speak TLS; a certificate from your own CA is trusted with nats.tls_ca_file / koubou-node --tls-ca.',
        'tls {',
        `  cert_file: ${str(input.tls.certFile)}`,
        `  key_file: ${str(input.tls.keyFile)}`,
        '}',
      ]
    : [];
  return [
    `# nats-server configuration written by \`koubou nats-config\` for the subject prefix "${input.prefix}".`,
    '# One nkey user per role, each allowed only the subjects it needs: a client without one of these seeds cannot',
    '# connect, a node cannot speak for another node or read its work, services can only delegate and ask for status.',
    '# Start: nats-server -c nats.conf   (check it first: nats-server -c nats.conf -t)',
    `listen: ${str(input.listen)}`,
    'max_payload: 8MB        # tasks carry their attached files',
    'ping_interval: "10s"    # notice dead clients sooner than the 2 min default',
    ...tls,
    '',
    'authorization {',
    '  users: [',
    users.join('\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}
