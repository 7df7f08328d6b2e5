/** How the coordinator's NATS side stands, as /health shows it: still trying (how often, the last error), or connected. */
export type BridgeStatus = { state: 'connecting'; attempts: number; error: string | null } | { state: 'connected' };
