// HelpDialog.tsx — lists the keyboard shortcuts.
import { SHORTCUTS } from '../shortcuts.ts';
import { useApp } from '../store/index.ts';

export function HelpDialog() {
  const close = useApp((s) => s.setPanel);
  return (
    <div className="modal-backdrop" onClick={() => close('help')}>
      <div className="modal" role="dialog" aria-label="Keyboard shortcuts" data-testid="help-dialog" onClick={(e) => e.stopPropagation()}>
        <header className="panel-head"><h2>Keyboard shortcuts</h2><button type="button" className="icon-btn" onClick={() => close('help')} aria-label="Close">✕</button></header>
        <table className="shortcuts">
          <tbody>
            {SHORTCUTS.map((s) => <tr key={s.keys + s.does}><td><kbd>{s.keys}</kbd></td><td>{s.does}</td></tr>)}
          </tbody>
        </table>
      </div>
    </div>
  );
}
