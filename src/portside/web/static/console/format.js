// Turning what the server sends into words and times for the agent.
//
// Times are shown in the agent's own locale and time zone (the browser's), except the
// shopper's local time, which is computed in the shopper's time zone. Names of countries
// and languages are given in English, like the rest of the console's text.

import { h } from "./dom.js";

const NAMES_LOCALE = "en";

const STATUS_LABELS = {
  bot: "AI agent",
  queued: "Queued",
  assigned: "Assigned",
  resolved: "Resolved",
};

/** A name the server uses (an intent, a reason, a label: `order_status`) in words. */
export function words(name) {
  return String(name ?? "").replaceAll("_", " ");
}

export function statusLabel(status) {
  return STATUS_LABELS[status] ?? String(status ?? "");
}

/** The flag emoji of a two-letter region code (regional indicator letters), or "". */
export function flag(country) {
  if (typeof country !== "string" || !/^[A-Za-z]{2}$/.test(country)) return "";
  const base = 0x1f1e6 - "A".charCodeAt(0);
  return String.fromCodePoint(...[...country.toUpperCase()].map((c) => base + c.charCodeAt(0)));
}

const regionNames = displayNames("region");
const languageNames = displayNames("language");

function displayNames(type) {
  try {
    return new Intl.DisplayNames([NAMES_LOCALE], { type, fallback: "code" });
  } catch {
    return null; // an old browser: codes are shown as they are
  }
}

/** "United States" for "US"; the code itself when it is unknown or malformed. */
export function countryName(code) {
  if (!code) return "";
  try {
    return regionNames?.of(String(code).toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** "English (United States)" for "en-US"; the tag itself when it cannot be named. */
export function languageName(tag) {
  if (!tag) return "";
  try {
    return languageNames?.of(tag) ?? tag;
  } catch {
    return tag;
  }
}

function parse(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateAndTime = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const withYear = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });

/** A short time in the agent's zone: "14:05" today, "Nov 24, 14:05" before. */
export function shortTime(iso, now = new Date()) {
  const date = parse(iso);
  if (!date) return "";
  if (date.toDateString() === now.toDateString()) return timeOnly.format(date);
  if (date.getFullYear() === now.getFullYear()) return dateAndTime.format(date);
  return withYear.format(date);
}

/** The complete date and time, for a title attribute. */
export function fullTime(iso) {
  const date = parse(iso);
  return date ? full.format(date) : "";
}

/** "now", "5 min", "3 h", "2 d", then a date: how long ago, for the inbox. */
export function relativeTime(iso, now = Date.now()) {
  const date = parse(iso);
  if (!date) return "";
  const seconds = Math.round((now - date.getTime()) / 1000);
  if (seconds < 45) return "now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h`;
  const days = Math.round(hours / 24);
  if (days < 7) return `${days} d`;
  return shortTime(iso);
}

/** "just now", "5 min ago", "3 h ago", or a date: for "last seen". */
export function ago(iso, now = Date.now()) {
  const when = relativeTime(iso, now);
  if (when === "now") return "just now";
  return /^\d+ (min|h|d)$/.test(when) ? `${when} ago` : when;
}

/** A <time> element showing `text` with the full date as its tooltip. */
export function timeElement(iso, text, className = "time") {
  return h("time", { class: className, datetime: iso, title: fullTime(iso), text });
}

/**
 * The wall-clock time now in `timeZone`, and how far it is from the agent's:
 * `{time: "Tue 07:04", difference: "13 h behind you"}`, or null for an unknown zone.
 */
export function localTimeIn(timeZone, now = new Date()) {
  if (!timeZone) return null;
  let time;
  try {
    time = new Intl.DateTimeFormat(undefined, {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
    }).format(now);
  } catch {
    return null; // RangeError: not a time zone this browser knows
  }
  const minutes = offsetMinutes(timeZone, now) + now.getTimezoneOffset();
  return { time, difference: describeDifference(minutes) };
}

/** The zone's offset from UTC in minutes at `date`, read from its wall clock. */
function offsetMinutes(timeZone, date) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
  });
  for (const part of format.formatToParts(date)) parts[part.type] = part.value;
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
  );
  // The wall clock has no seconds: compare with the instant cut to the minute as well.
  const instant = Math.floor(date.getTime() / 60000) * 60000;
  return Math.round((wall - instant) / 60000);
}

function describeDifference(minutes) {
  if (minutes === 0) return "same time as you";
  const size = Math.abs(minutes);
  const hours = Math.floor(size / 60);
  const rest = size % 60;
  const amount = [hours ? `${hours} h` : "", rest ? `${rest} min` : ""].filter(Boolean).join(" ");
  return `${amount} ${minutes > 0 ? "ahead of" : "behind"} you`;
}
