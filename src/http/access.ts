/**
 * What each role may do, in one place for the API routes and the dashboard:
 *   admin      everything
 *   moderator  everything about its own chats (AMAs spanning them, the mod log, quiet mode, digests)
 *   host       read its own AMAs and their questions, and answer them — nothing else
 */
import { baseChat } from '../core/ids.js';
import type { Principal } from './auth.js';

/** What is done to an AMA. */
export type AmaAction = 'read' | 'answer' | 'manage';

/** The group (chat without topic) of a chat id, or null when it is not one. */
export function groupOf(chat: string): string | null {
  try {
    return baseChat(chat);
  } catch {
    return null;
  }
}

/** Whether a principal may see and moderate a chat: the admin all, a moderator its own chats' groups, a host none. */
export function mayModerateChat(p: Principal, chat: string): boolean {
  if (p.role === 'admin') return true;
  if (p.role !== 'moderator') return false;
  const g = groupOf(chat);
  return g !== null && p.chats.some((c) => groupOf(c) === g);
}

/** Whether a principal may see an AMA at all (others' AMAs are answered as not found). */
export function maySeeAma(p: Principal, ama: { id: string; chats: string[] }): boolean {
  if (p.role === 'admin') return true;
  if (p.role === 'host') return p.amas.includes(ama.id);
  return ama.chats.some((c) => mayModerateChat(p, c));
}

/** Whether a principal may do `action` to an AMA it can see: hosts read and answer, nothing else. */
export function mayActOnAma(p: Principal, ama: { id: string; chats: string[] }, action: AmaAction): boolean {
  if (!maySeeAma(p, ama)) return false;
  return p.role !== 'host' || action === 'read' || action === 'answer';
}
