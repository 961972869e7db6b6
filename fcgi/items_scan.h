/*
 * items_scan.h: finding the "items" array of a job body and its elements
 * without building them all at once, so that a million items cost their
 * own bytes and not a json-c object tree each. Only boundaries are found
 * here; every element and the rest of the body are still parsed strictly
 * by bj_json_parse. Pure functions over borrowed text.
 */
#ifndef BJ_ITEMS_SCAN_H
#define BJ_ITEMS_SCAN_H

#include <stddef.h>

/*
 * In the JSON object text s[0..len), find the value of the first
 * top-level member named "items": 1 with [*start, *end) spanning it, 0
 * when there is none, -1 when the text is not a well-formed object, -2
 * when "items" is there more than once (however its name is escaped).
 */
int bj_items_span(const char *s, size_t len, size_t *start, size_t *end);

/*
 * Walk the array s[0..end) whose '[' is at *pos on the first call (*first
 * set, then cleared): 1 with the next element in [*el_start, *el_end), 0
 * at the closing ']', -1 when malformed (elements not separated by a comma
 * among others). *pos advances past the element.
 */
int bj_items_next(const char *s, size_t end, size_t *pos, int *first, size_t *el_start,
    size_t *el_end);

#endif
