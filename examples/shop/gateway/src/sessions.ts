import { Router } from "express";

type Session = { userId: string; expiresAt: number };

export const sessions = Router();

// Sessions of this gateway process. The gateway autoscales between 2 and 10 pods.
const active = new Map<string, Session>();

sessions.post("/sessions", (req, res) => {
  const token = crypto.randomUUID();
  // The next request may land on another pod, which has never heard of this token.
  active.set(token, { userId: req.body.userId, expiresAt: Date.now() + 3_600_000 });
  res.json({ token });
});

// Clean counterpart: reads the map, writes nothing.
sessions.get("/sessions/:token", (req, res) => {
  const session = active.get(req.params.token);
  res.status(session ? 200 : 404).json(session ?? {});
});
