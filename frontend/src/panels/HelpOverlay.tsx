// Keyboard and pointer shortcuts, over the viewport (`?` or the ? button; Esc closes).

const SHORTCUTS: Array<[string, string]> = [
  ['Left drag', 'orbit (orbit scheme) / look (fly, kit)'],
  ['Right drag', 'fly: look with pointer lock'],
  ['Middle drag / Shift+left', 'pan'],
  ['Wheel', 'zoom / dolly'],
  ['Click', 'select the prim under the pointer'],
  ['W A S D Q E', 'fly: move'],
  ['F', 'frame the selection (or the whole stage)'],
  ['Esc', 'clear the selection; close this help'],
  ['?', 'show or hide this help'],
];

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <div className="help-overlay" role="dialog" aria-label="Keyboard shortcuts" data-testid="help-overlay">
      <h2>Shortcuts</h2>
      <table>
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys}>
              <th>{keys}</th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button onClick={onClose}>Close</button>
    </div>
  );
}
