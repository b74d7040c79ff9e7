import { ROUTES, type RouteClass } from '@pp-embed/viz-api';
import type { CredentialEntry, PolicyEntry, RouteRef } from './entries.js';
import { ANY } from './entries.js';
import { signedWith } from './explain.js';
import { type AccessPolicy, type RouteBlock, traceResolution } from './policy.js';

/**
 * One row of the access table: for a dataset and a set of its routes, what one embedder needs. `needs` names the
 * kind of key a token is checked with, never the key.
 *
 * @example
 * const row: AccessRow = {
 *   dataset: 'TermdbTest', routes: 'sample-level (termdb/samples)', embedder: 'portal.example.org (any port)',
 *   needs: 'a token signed with the shared secret (HS256); strict address check', path: 'dsCredentials.TermdbTest.termdb.portal.example.org',
 * };
 */
export interface AccessRow {
  readonly dataset: string;
  /** A route class and its routes: `aggregated (termdb/terms, termdb/barchart)`. */
  readonly routes: string;
  /** An embedder key as the table reads it (`portal.example.org (any port)`), or `every origin`, `any other origin`. */
  readonly embedder: string;
  readonly needs: string;
  /** The config entry or route block that decides, or undefined when no credential covers the routes. */
  readonly path: string | undefined;
}

/** The access table: its rows, and the datasets whose every route answers every origin without a token. */
export interface AccessTable {
  readonly rows: readonly AccessRow[];
  readonly openToEveryone: readonly string[];
}

const CLASSES: readonly RouteClass[] = ['discovery', 'aggregated', 'sample-level'];

/**
 * What `policy` asks of each embedder, for each served dataset and each class of its routes: the table the
 * server prints at start and `pp-token explain --config` prints without a token. Routes of one class that are
 * decided alike share a row. Only the kind of each key is named, never the key.
 *
 * @example
 * const { rows, openToEveryone } = accessTable(policy, ['TermdbTest', 'PPDemo']);
 * for (const row of rows) log.info('access', row);
 */
export function accessTable(policy: AccessPolicy, datasets: readonly string[]): AccessTable {
  const rows: AccessRow[] = [];
  const openToEveryone: string[] = [];
  const routes: RouteRef[] = Object.values(ROUTES).map((r) => ({ name: r.name, class: r.class }));
  for (const dataset of datasets) {
    let everyRouteOpen = true;
    for (const routeClass of CLASSES) {
      // Routes of a class that resolve to one route block are decided alike.
      const groups = new Map<RouteBlock | undefined, RouteRef[]>();
      for (const route of routes.filter((r) => r.class === routeClass)) {
        const block = traceResolution(policy, dataset, route, undefined).route.block;
        groups.set(block, [...(groups.get(block) ?? []), route]);
      }
      for (const [block, members] of groups) {
        const label = `${routeClass} (${members.map((r) => r.name).join(', ')})`;
        const discovery = routeClass === 'discovery';
        if (block === undefined) {
          rows.push({
            dataset,
            routes: label,
            embedder: 'every origin',
            needs: 'nothing: open to everyone',
            path: undefined,
          });
          continue;
        }
        if (!openBlock(block)) everyRouteOpen = false;
        for (const entry of block.embedders.values()) {
          rows.push({
            dataset,
            routes: label,
            embedder: entry.embedder === ANY ? 'every origin' : embedderLabel(entry.embedder),
            needs: needsOf(entry, discovery),
            path: entry.path,
          });
        }
        if (!block.embedders.has(ANY)) {
          rows.push({
            dataset,
            routes: label,
            embedder: 'any other origin',
            needs: 'refused (embedder_not_allowed)',
            path: block.path,
          });
        }
        rows.push({
          dataset,
          routes: label,
          embedder: 'scripts (no Origin)',
          ...scriptsRow(block, discovery),
        });
      }
    }
    if (everyRouteOpen) openToEveryone.push(dataset);
  }
  return { rows, openToEveryone };
}

/** What a request without an Origin needs: the entry that takes scripts, an open or forbidden `*`, or nothing does. */
function scriptsRow(block: RouteBlock, discovery: boolean): Pick<AccessRow, 'needs' | 'path'> {
  const entry = block.scripts;
  if (entry !== undefined) {
    const without = discovery ? '; without one it still answers, less the token-guarded parts' : '';
    if (entry.verifier === undefined) {
      // Only a trusted issuer's tokens: they carry no address and say nothing of who holds them.
      return {
        needs: `a token ${signedWith(entry)}, as a Bearer token or in ${entry.headerKey}${without}`,
        path: entry.path,
      };
    }
    const address =
      entry.scripts === 'pinned'
        ? `"ip" required, ${ipOf(entry)}`
        : `"ip" checked when the portal pinned one (${ipOf(entry)})`;
    return {
      needs: `a script's token ${signedWith(entry)}, as a Bearer token or in ${entry.headerKey}; ${address}${without}`,
      path: entry.path,
    };
  }
  const star = block.embedders.get(ANY);
  if (star?.type === 'open' || star?.type === 'forbidden')
    return { needs: needsOf(star, discovery), path: star.path };
  return { needs: 'refused (scripts_not_allowed)', path: block.path };
}

function openBlock(block: RouteBlock): boolean {
  return block.embedders.has(ANY) && [...block.embedders.values()].every((e) => e.type === 'open');
}

/** A key without a port covers every port of its host; the table says so. */
function embedderLabel(key: string): string {
  return /:\d+$/.test(key) ? key : `${key} (any port)`;
}

function needsOf(entry: PolicyEntry, discovery: boolean): string {
  if (entry.type === 'open') return 'nothing (an "open" entry)';
  if (entry.type === 'forbidden') return 'refused (route_forbidden)';
  const without = discovery ? '; without one it still answers, less the token-guarded parts' : '';
  return `${credentialOf(entry)}, in ${entry.headerKey}; ${ipOf(entry)}${without}`;
}

function credentialOf(entry: CredentialEntry): string {
  if (entry.type === 'basic') return 'the dataset password (a token this server issues for it, HS256)';
  return `a token ${signedWith(entry)}`;
}

function ipOf(entry: CredentialEntry): string {
  return entry.ipCheck === 'none' ? 'address not checked' : `${entry.ipCheck} address check`;
}

/**
 * The access table as aligned text, for a terminal.
 *
 * @example
 * console.log(formatAccessTable(accessTable(policy, labels)).join('\n'));
 */
export function formatAccessTable(table: AccessTable): string[] {
  const header = { dataset: 'dataset', routes: 'routes', embedder: 'embedder', needs: 'needs' };
  const all = [header, ...table.rows];
  const width = (key: 'dataset' | 'routes' | 'embedder') => Math.max(...all.map((r) => r[key].length));
  const [d, r, e] = [width('dataset'), width('routes'), width('embedder')];
  const lines = all.map((row) =>
    `${row.dataset.padEnd(d)}  ${row.routes.padEnd(r)}  ${row.embedder.padEnd(e)}  ${row.needs}`.trimEnd(),
  );
  lines.push(
    table.openToEveryone.length === 0
      ? 'Open to everyone: no dataset.'
      : `Open to everyone (every route, every origin, no token): ${table.openToEveryone.join(', ')}.`,
  );
  return lines;
}
