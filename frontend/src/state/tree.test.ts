import { describe, expect, it } from 'vitest';
import { childrenLoaded, loadForFilter, parentOf, resetTree, rowHasChildren, select, setFilter, toggle, visibleRows } from './tree';

const rootRows = [
  { name: 'Ground', path: '/World/Ground', type: 'geom', children: false },
  { name: 'Props', path: '/World/Props', type: 'xform', children: true },
  { name: 'Sun', path: '/World/Sun', type: 'light' },
];
const propsRows = [
  { name: 'Box', path: '/World/Props/Box', type: 'geom', children: false },
  { name: 'Shelf', path: '/World/Props/Shelf', type: 'xform', hasChildren: true },
];

const paths = (state: ReturnType<typeof resetTree>) => visibleRows(state).map((r) => r.node.path);

describe('tree state', () => {
  it('normalises the children forms', () => {
    expect(rowHasChildren({ name: 'a', path: '/a', children: [] })).toBe(false);
    expect(rowHasChildren({ name: 'a', path: '/a', children: [{ name: 'b', path: '/a/b' }] })).toBe(true);
    expect(rowHasChildren({ name: 'a', path: '/a', children: true })).toBe(true);
    expect(rowHasChildren({ name: 'a', path: '/a', children: null, has_children: true })).toBe(true);
    expect(rowHasChildren({ name: 'a', path: '/a' })).toBe(false);
    expect(parentOf('/World/Props/Box')).toBe('/World/Props');
    expect(parentOf('/World')).toBe('/');
  });

  it('shows the root, then its children once loaded', () => {
    let tree = resetTree('/World');
    expect(paths(tree)).toEqual(['/World']);
    tree = childrenLoaded(tree, '/World', rootRows);
    expect(paths(tree)).toEqual(['/World', '/World/Ground', '/World/Props', '/World/Sun']);
    expect(visibleRows(tree)[2]?.depth).toBe(1);
  });

  it('requests children lazily on the first expand only', () => {
    let tree = childrenLoaded(resetTree('/World'), '/World', rootRows);
    const first = toggle(tree, '/World/Props');
    expect(first.request).toBe('/World/Props');
    tree = childrenLoaded(first.state, '/World/Props', propsRows);
    expect(paths(tree)).toContain('/World/Props/Shelf');
    const collapsed = toggle(tree, '/World/Props');
    expect(collapsed.request).toBeNull();
    expect(paths(collapsed.state)).not.toContain('/World/Props/Box');
    const again = toggle(collapsed.state, '/World/Props');
    expect(again.request).toBeNull(); // already loaded
    expect(toggle(tree, '/World/Ground').request).toBeNull(); // a leaf
  });

  it('ignores children of prims that are not in the tree (stale replies)', () => {
    const tree = resetTree('/World');
    expect(childrenLoaded(tree, '/Other', rootRows)).toBe(tree);
  });

  it('mirrors the server selection and reveals the selected row', () => {
    let tree = childrenLoaded(resetTree('/World'), '/World', rootRows);
    const selected = select(tree, ['/World/Props/Shelf/Book']);
    expect(selected.requests).toEqual(['/World/Props', '/World/Props/Shelf']);
    tree = childrenLoaded(selected.state, '/World/Props', propsRows);
    tree = childrenLoaded(tree, '/World/Props/Shelf', [{ name: 'Book', path: '/World/Props/Shelf/Book', type: 'geom' }]);
    const rows = visibleRows(tree);
    expect(rows.filter((r) => r.selected).map((r) => r.node.path)).toEqual(['/World/Props/Shelf/Book']);
    expect(select(tree, []).state.selected).toEqual([]);
  });

  it('filters by name, keeping the ancestors of matches', () => {
    let tree = childrenLoaded(resetTree('/World'), '/World', rootRows);
    tree = childrenLoaded(tree, '/World/Props', propsRows); // loaded but collapsed
    tree = setFilter(tree, 'shel');
    expect(paths(tree)).toEqual(['/World', '/World/Props', '/World/Props/Shelf']);
    expect(paths(setFilter(tree, 'nothing'))).toEqual([]);
  });

  it('a filter searches the whole stage: unloaded branches are loaded, once', () => {
    let tree = childrenLoaded(resetTree('/World'), '/World', rootRows);
    expect(loadForFilter(tree).requests).toEqual([]); // no filter: nothing to load
    const first = loadForFilter(setFilter(tree, 'box'));
    expect(first.requests).toEqual(['/World/Props']);
    expect(loadForFilter(first.state).requests).toEqual([]); // already loading
    tree = childrenLoaded(first.state, '/World/Props', propsRows);
    expect(paths(tree)).toEqual(['/World', '/World/Props', '/World/Props/Box']);
    expect(loadForFilter(tree).requests).toEqual(['/World/Props/Shelf']);
  });
});
