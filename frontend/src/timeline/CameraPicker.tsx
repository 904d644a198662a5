// The authored-camera picker: the stage's UsdGeom cameras (`camera_list`, pushed when a stage
// opens) and "Free camera". Choosing one asks the host to look through it (`set_camera`, with its
// focal length, apertures, offsets, clipping range and projection); "Free camera" frames the
// stage again. Hidden when the stage has no authored camera.

import { useEffect, useState } from 'react';
import type { ViewerClient } from '../connection/client';
import type { CameraListPayload } from '../protocol';

const FREE = '';

export function CameraPicker({ client }: { client: ViewerClient }) {
  const [list, setList] = useState<CameraListPayload | null>(null);
  const [active, setActive] = useState<string>(FREE);
  useEffect(
    () =>
      client.onAny((payload, message) => {
        if (message.event_type === 'camera_list') {
          const next = payload as CameraListPayload;
          setList(next);
          setActive(next.activeCamera ?? FREE);
        } else if (message.event_type === 'camera_changed') {
          const path = (payload as { activeCamera?: unknown }).activeCamera;
          setActive(typeof path === 'string' ? path : FREE);
        }
      }),
    [client],
  );
  if (!list || list.cameras.length === 0) return null;
  const choose = (path: string) => {
    setActive(path);
    if (path === FREE) client.send('cameraCommandRequest', { command: 'reset' });
    else client.send('set_camera', { path });
  };
  return (
    <section className="panel camera-picker" data-testid="camera-picker">
      <h2>Camera</h2>
      <select aria-label="Look through" value={active} onChange={(e) => choose(e.currentTarget.value)}>
        <option value={FREE}>Free camera</option>
        {list.cameras.map((c) => (
          <option key={c.path} value={c.path}>
            {c.name ?? c.path}
          </option>
        ))}
      </select>
    </section>
  );
}
