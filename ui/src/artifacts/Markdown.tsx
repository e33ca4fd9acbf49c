import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useMemo } from 'react';

/** Markdown rendered to HTML and sanitised (no scripts, no event handlers). */
export function Markdown({ text }: { text: string }) {
  const html = useMemo(() => {
    const raw = marked.parse(text, { async: false, gfm: true }) as string;
    return DOMPurify.sanitize(raw, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input', 'button'] });
  }, [text]);
  return <div className="markdown" data-testid="markdown-preview" dangerouslySetInnerHTML={{ __html: html }} />;
}
