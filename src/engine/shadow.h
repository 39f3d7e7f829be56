/*
 * shadow: which rules of a policy can never match, because an earlier rule
 * matches every call they do (first match wins, so they never decide).
 * `sockshim check` warns about each; this is the engine's part, pure.
 *
 * Rule a shadows rule b when a comes first, names every op of b, its proto
 * and family masks cover b's, and each matcher a has (addr, port, program)
 * b has too, with a's set holding all of b's. For each rule the first such
 * earlier rule is found without comparing it with every earlier one: an
 * earlier rule with an addr can only shadow it if its addresses hold one
 * address of the rule's (the first), so earlier rules are filed by the
 * aligned blocks (CIDRs) their ranges cut into, and only the blocks that
 * hold that point (one per prefix length: at most 33 for IPv4, 129 for
 * IPv6, 17 for ports) are looked up in a hash table. Rules with both an
 * addr and a port are filed by pairs of blocks, so 10,000 rules on one
 * address with different ports, or on one port range with different
 * addresses, make no long list. Programs are filed by name, and rules with
 * none of the three by (on, proto, family).
 *
 * That finds every shadowing rule, and the first one, in time near-linear in
 * the rules for any policy whose rules do not pile onto the same address,
 * port and program by the thousand. When they do (say 10,000 rules for one
 * address and port that differ only in `program`), comparing each with all
 * the earlier ones would be quadratic, so the comparisons a rule gets are
 * bounded: past max_compare of them its search stops, and the count of
 * rules cut short is returned so the caller can say so.
 */
#ifndef SOCKSHIM_SHADOW_H
#define SOCKSHIM_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

/* Every call b can match, a matches too (a's matchers hold all of b's). */
bool ss_rule_shadows(const struct ss_rule *a, const struct ss_rule *b);

/* A rule b's comparisons with earlier rules, by default, before its search
 * is cut short. */
#define SS_SHADOW_MAX_COMPARE 4096

/*
 * For each rule i of p, by[i] = the first earlier rule that shadows it, or
 * UINT32_MAX when none does (as far as the search went). Returns how many
 * rules' searches were cut short at max_compare comparisons (0: the answer
 * is exact), or -1 when memory runs out.
 */
long ss_shadow_find(const struct ss_policy *p, uint32_t max_compare, uint32_t *by);

#endif
