/**
 * The startup suite's floor: a bare Hono server on @hono/node-server answering GET /health, nothing else — what
 * Node and the HTTP stack Koubou is built on cost before any of Koubou's own work. Usage: node bare-server.js PORT
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/health', (c) => c.json({ status: 'ok' }));
serve({ fetch: app.fetch, port: Number(process.argv[2]), hostname: '127.0.0.1' });
