// Stage-tree state: lazily loaded nodes keyed by prim path, expansion, the server's selection
// and a name filter. Pure functions so the panel and the tests share one implementation.

import type { PrimRow } from '../protocol';

export interface TreeNode {
  path: string;
  name: string;
  type: string;
  /** The server says this prim has children (loaded or not). */
  expandable: boolean;
  /** Child paths once loaded; null until `getChildrenResult` arrives. */
  children: string[] | null;
  expanded: boolean;
  loading: boolean;
}

export interface TreeState {
  rootPath: string | null;
  nodes: Record<string, TreeNode>;
  selected: string[];
  filter: string;
}

export const emptyTree: TreeState = { rootPath: null, nodes: {}, selected: [], filter: '' };

export function nameOf(path: string): string {
  if (path === '/') return '/';
  return path.slice(path.lastIndexOf('/') + 1) || path;
}

export function parentOf(path: string): string | null {
  if (path === '/' || !path.startsWith('/')) return null;
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

/** Normalises the `children` forms: array (loaded), boolean / hasChildren / has_children. */
export function rowHasChildren(row: PrimRow): boolean {
  if (Array.isArray(row.children)) return row.children.length > 0 || row.hasChildren === true || row.has_children === true;
  return Boolean(row.children) || row.hasChildren === true || row.has_children === true;
}

/** A fresh tree for a newly opened stage, with its root row expanded and waiting for children. */
export function resetTree(rootPath: string): TreeState {
  return {
    rootPath,
    nodes: {
      [rootPath]: { path: rootPath, name: nameOf(rootPath), type: 'xform', expandable: true, children: null, expanded: true, loading: true },
    },
    selected: [],
    filter: '',
  };
}

function addRows(nodes: Record<string, TreeNode>, parentPath: string, rows: PrimRow[]): void {
  const parent = nodes[parentPath];
  const childPaths: string[] = [];
  for (const row of rows) {
    if (!row || typeof row.path !== 'string') continue;
    childPaths.push(row.path);
    const existing = nodes[row.path];
    const loadedChildren = Array.isArray(row.children) && row.children.length > 0 ? row.children : null;
    nodes[row.path] = {
      path: row.path,
      name: typeof row.name === 'string' && row.name ? row.name : nameOf(row.path),
      type: typeof row.type === 'string' ? row.type : 'other',
      expandable: rowHasChildren(row),
      children: existing?.children ?? null,
      expanded: existing?.expanded ?? false,
      loading: existing?.loading ?? false,
    };
    if (loadedChildren) addRows(nodes, row.path, loadedChildren);
  }
  if (parent) {
    nodes[parentPath] = { ...parent, children: childPaths, loading: false, expandable: parent.expandable || childPaths.length > 0 };
  }
}

/** Applies a `getChildrenResult`. Results for prims outside the current tree are ignored. */
export function childrenLoaded(state: TreeState, primPath: string, rows: PrimRow[]): TreeState {
  if (state.rootPath === null) return state;
  const nodes = { ...state.nodes };
  if (!nodes[primPath]) {
    if (primPath === '/' || primPath === parentOf(state.rootPath)) {
      // Children of the pseudo-root: find the root row among them to learn its type.
      const root = rows.find((row) => row.path === state.rootPath);
      const rootNode = nodes[state.rootPath];
      if (root && rootNode) nodes[state.rootPath] = { ...rootNode, type: root.type ?? rootNode.type };
      return { ...state, nodes };
    }
    return state;
  }
  addRows(nodes, primPath, rows);
  return { ...state, nodes };
}

/**
 * Toggles a row. Returns the new state and the prim whose children must be requested (if any).
 */
export function toggle(state: TreeState, path: string): { state: TreeState; request: string | null } {
  const node = state.nodes[path];
  if (!node || !node.expandable) return { state, request: null };
  const expanded = !node.expanded;
  const request = expanded && node.children === null && !node.loading ? path : null;
  const nodes = { ...state.nodes, [path]: { ...node, expanded, loading: node.loading || request !== null } };
  return { state: { ...state, nodes }, request };
}

/**
 * Mirrors the server's selection and expands the ancestors of the first selected prim so its
 * row is visible. Returns the ancestors whose children must still be requested.
 */
export function select(state: TreeState, prims: string[]): { state: TreeState; requests: string[] } {
  const nodes = { ...state.nodes };
  const requests: string[] = [];
  const first = prims[0];
  if (first && state.rootPath && (first === state.rootPath || first.startsWith(`${state.rootPath}/`))) {
    const ancestors: string[] = [];
    for (let p = parentOf(first); p && p !== '/'; p = parentOf(p)) {
      ancestors.unshift(p);
      if (p === state.rootPath) break;
    }
    for (const ancestor of ancestors) {
      const node = nodes[ancestor] ?? {
        path: ancestor,
        name: nameOf(ancestor),
        type: 'xform',
        expandable: true,
        children: null,
        expanded: false,
        loading: false,
      };
      const needsLoad = node.children === null && !node.loading;
      if (needsLoad) requests.push(ancestor);
      nodes[ancestor] = { ...node, expandable: true, expanded: true, loading: node.loading || needsLoad };
    }
  }
  return { state: { ...state, nodes, selected: [...prims] }, requests };
}

export function setFilter(state: TreeState, filter: string): TreeState {
  return { ...state, filter };
}

/** Nodes a filter loads at most: the whole stage is searched up to this many prims. */
export const FILTER_LOAD_LIMIT = 5000;

/**
 * With a filter the whole stage is searched, not only what was expanded: every node whose
 * children are still unknown is loaded (until the tree holds FILTER_LOAD_LIMIT nodes). Returns
 * the tree with those nodes marked loading and the paths to request.
 */
export function loadForFilter(state: TreeState): { state: TreeState; requests: string[] } {
  if (!state.filter.trim() || Object.keys(state.nodes).length >= FILTER_LOAD_LIMIT) return { state, requests: [] };
  const pending = Object.values(state.nodes).filter((n) => n.expandable && n.children === null && !n.loading);
  const requests = pending.map((n) => n.path);
  if (requests.length === 0) return { state, requests };
  const nodes = { ...state.nodes };
  for (const node of pending) nodes[node.path] = { ...node, loading: true };
  return { state: { ...state, nodes }, requests };
}

export interface VisibleRow {
  node: TreeNode;
  depth: number;
  selected: boolean;
}

/**
 * The rows to draw, depth first. With a filter, a loaded node is shown when its name matches or
 * one of its loaded descendants does (matching branches are shown expanded).
 */
export function visibleRows(state: TreeState): VisibleRow[] {
  const rows: VisibleRow[] = [];
  if (!state.rootPath) return rows;
  const needle = state.filter.trim().toLowerCase();
  const selected = new Set(state.selected);
  const matches = new Map<string, boolean>();
  const subtreeMatches = (path: string): boolean => {
    const cached = matches.get(path);
    if (cached !== undefined) return cached;
    const node = state.nodes[path];
    let result = false;
    if (node) {
      result = node.name.toLowerCase().includes(needle) || (node.children ?? []).some((child) => subtreeMatches(child));
    }
    matches.set(path, result);
    return result;
  };
  const walk = (path: string, depth: number) => {
    const node = state.nodes[path];
    if (!node) return;
    if (needle && !subtreeMatches(path)) return;
    rows.push({ node, depth, selected: selected.has(path) });
    const open = needle ? true : node.expanded;
    if (open && node.children) for (const child of node.children) walk(child, depth + 1);
  };
  walk(state.rootPath, 0);
  return rows;
}
