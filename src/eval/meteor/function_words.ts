// English function words for METEOR's delta weighting (content matches count delta = 0.75, function matches 0.25).
// METEOR 1.5 ships its own list (resources/function/english.words, words above a relative corpus frequency) which is
// not available here; this is the closed-class vocabulary of English (articles, determiners, pronouns, prepositions,
// conjunctions, auxiliaries and modals, negation and degree particles) plus punctuation tokens. See the README for
// what the difference can do to scores.
export const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  `a an the this that these those some any each every either neither no all both half several many much more most few
fewer less least other another such what which whose whatever whichever
i me my mine myself you your yours yourself yourselves he him his himself she her hers herself it its itself we us our
ours ourselves they them their theirs themselves one ones oneself who whom whoever someone somebody something anyone
anybody anything everyone everybody everything nobody nothing none
about above across after against along amid among amongst around as at before behind below beneath beside besides
between beyond but by despite down during except for from in inside into like near of off on onto out outside over past
per since than through throughout till to toward towards under underneath unlike until up upon via with within without
and or nor so yet because although though while whereas if unless whether once when whenever where wherever how why
be am is are was were been being have has had having do does did doing done
can could may might must shall should will would ought
not n't no yes also too very just only even still again ever never now then there here quite rather almost
's 're 've 'll 'd 'm
. , ; : ! ? ' " \` -- - ... ( ) -lrb- -rrb-`.split(/\s+/).filter((w) => w.length > 0),
);
