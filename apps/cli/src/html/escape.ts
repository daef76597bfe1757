const HTML: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text or an attribute value, safe inside HTML (both quote styles). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML[c]!);
}

/**
 * JSON to embed in a <script type="application/json"> block: "<" and ">"
 * escaped so no "</script>" or "<!--" can end or confuse the block, and the
 * line separators JavaScript once refused in strings.
 */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Script source to inline: a literal "</script" inside it would end the element early. */
export function inlineScript(src: string): string {
  return src.replace(/<\/(script)/gi, "<\\/$1");
}
