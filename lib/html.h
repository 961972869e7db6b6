/*
 * html.h: the one place that builds HTML, for the status pages and for
 * the HTML part of notification emails.
 *
 * A document is a tree. Text and attribute values go in as they are and
 * are escaped for where they land (text, attribute value, URL attribute)
 * when the tree is written out; text that is not UTF-8 comes out as
 * U+FFFD. There is no call that inserts markup, apart from the style
 * sheet, which is ours. Element and attribute names are the callers'
 * own constants and are written as they are: never pass data as a name.
 * Links are checked: only relative paths and http(s) URLs become an href.
 *
 * Ownership: a struct bj_html owns every element made from it and a copy
 * of every string handed to it; elements are borrowed pointers valid
 * until bj_html_free(). bj_html_render() returns an allocated string the
 * caller frees.
 */
#ifndef BJ_HTML_H
#define BJ_HTML_H

#include <stddef.h>

struct bj_html;
struct bj_html_el;

/* A new HTML5 document with <head> (charset, viewport, title) and <body>. */
struct bj_html *bj_html_new(const char *lang, const char *title);
void bj_html_free(struct bj_html *h);

struct bj_html_el *bj_html_head(struct bj_html *h);
struct bj_html_el *bj_html_body(struct bj_html *h);

/* Append <tag> to parent, with text (may be NULL) as its escaped content. */
struct bj_html_el *bj_html_add(struct bj_html_el *parent, const char *tag,
    const char *text);
/* printf-style text content; the result is escaped like any text. */
struct bj_html_el *bj_html_addf(struct bj_html_el *parent, const char *tag,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Set an attribute (value escaped); a NULL value makes a boolean attribute. */
void bj_html_attr(struct bj_html_el *el, const char *name, const char *value);
/* Append escaped text to an element. */
void bj_html_text(struct bj_html_el *el, const char *text);

/* 1 when url may be an href: a path ("/…", not "//…") or an http(s) URL. */
int bj_html_url_ok(const char *url);
/* Append <a href=url>text</a>; a url that is not allowed becomes plain text. */
struct bj_html_el *bj_html_link(struct bj_html_el *parent, const char *url,
    const char *text);

/* Add the inline style sheet to <head>, with nonce (may be NULL). */
void bj_html_style(struct bj_html *h, const char *css, const char *nonce);
/* <meta http-equiv="refresh" content="seconds"> in <head>. */
void bj_html_refresh(struct bj_html *h, int seconds);

/* Serialise as "<!DOCTYPE html>…"; caller frees; *len may be NULL. */
char *bj_html_render(struct bj_html *h, size_t *len);

#endif
