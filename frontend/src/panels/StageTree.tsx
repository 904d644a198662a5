// The stage tree panel: lazy rows (children requested on expand), type icons, a name filter,
// and the server's selection highlighted; clicks ask the server to select.

import type { ViewerStore } from '../state/store';
import { visibleRows, type TreeState } from '../state/tree';

const ICONS: Record<string, string> = { geom: '◆', camera: '◎', light: '☀', scope: '▢', xform: '✥', other: '•' };

export function StageTree({ tree, store }: { tree: TreeState; store: ViewerStore }) {
  const rows = visibleRows(tree);
  return (
    <section className="panel" data-testid="stage-tree">
      <h2>Stage</h2>
      <input
        className="filter"
        type="search"
        placeholder="Filter prims…"
        value={tree.filter}
        onChange={(e) => store.setTreeFilter(e.target.value)}
        aria-label="Filter prims"
      />
      {rows.length === 0 && <p className="muted">No stage open.</p>}
      <ul className="tree" role="tree">
        {rows.map(({ node, depth, selected }) => (
          <li
            key={node.path}
            role="treeitem"
            aria-selected={selected}
            aria-expanded={node.expandable ? node.expanded : undefined}
            className={selected ? 'row selected' : 'row'}
            style={{ paddingLeft: `${depth * 14 + 4}px` }}
            data-path={node.path}
          >
            <button
              className="twisty"
              disabled={!node.expandable}
              onClick={() => store.toggleRow(node.path)}
              aria-label={node.expanded ? `Collapse ${node.name}` : `Expand ${node.name}`}
              data-testid="twisty"
            >
              {node.expandable ? (node.loading ? '…' : node.expanded ? '▾' : '▸') : ''}
            </button>
            <span className={`icon type-${node.type}`} title={node.type}>
              {ICONS[node.type] ?? ICONS.other}
            </span>
            <button className="name" onClick={() => store.selectPrims([node.path])} title={node.path}>
              {node.name}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
