// Attention signals for a counsellor who is looking elsewhere: a short generated chime and a
// desktop notification. Notifications never carry message text, only what kind of thing happened.
import { t } from '/shared/i18n.js';

let audioContext = null;

/** Browsers only allow audio after a user gesture; call this from one (click, key press). */
export function unlockAudio() {
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  if (!AudioContextClass) return;
  if (!audioContext) audioContext = new AudioContextClass();
  if (audioContext.state === 'suspended') audioContext.resume().catch(() => {});
}

/** Two soft sine tones, about 0.4 s in all. */
export function chime() {
  if (!audioContext || audioContext.state !== 'running') return;
  const start = audioContext.currentTime;
  [660, 880].forEach((frequency, index) => {
    const at = start + index * 0.16;
    const oscillator = audioContext.createOscillator();
    const gain = audioContext.createGain();
    oscillator.type = 'sine';
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.18, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.24);
    oscillator.connect(gain).connect(audioContext.destination);
    oscillator.start(at);
    oscillator.stop(at + 0.26);
  });
}

export function notificationsSupported() {
  return 'Notification' in window;
}

export function notificationPermission() {
  return notificationsSupported() ? Notification.permission : 'denied';
}

/** Must run inside a click handler: browsers ignore permission requests without a user gesture. */
export async function requestNotificationPermission() {
  if (!notificationsSupported()) return 'denied';
  return Notification.requestPermission();
}

/** True when the counsellor is looking at this page: tab visible and window focused. */
export function isAttending() {
  return document.visibilityState === 'visible' && document.hasFocus();
}

const NOTIFICATION_TEXT = {
  conversation: 'console.alerts.new_conversation',
  message: 'console.alerts.new_message',
  supervision: 'console.alerts.supervision',
};

/**
 * Chime and notify about a new queue item ('conversation'), a relative message ('message') or a
 * supervisor's alert ('supervision') unless attending.
 */
export function alertUser(kind) {
  if (isAttending()) return;
  chime();
  if (notificationPermission() !== 'granted') return;
  const notification = new Notification(t('console.alerts.title'), {
    body: t(NOTIFICATION_TEXT[kind]),
    tag: `kinline-${kind}`,
    silent: true,
  });
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
}
