/// What a lexicon term is about; the categories group the table in
/// docs/SENTIMENT_LEXICON.md.
public enum LexiconCategory: String, CaseIterable, Sendable {
    case regulation, security, price, macro, business, flows, mood
}

/// One term of the finance lexicon: a word or a phrase of lowercase words
/// (as `SentimentScorer.tokens` spells it), its score in [-1, 1] and the
/// other spellings and inflections that score the same.
public struct LexiconEntry: Sendable, Equatable {
    public let term: String
    public let score: Double
    public let category: LexiconCategory
    public let variants: [String]
}

/// The finance lexicon and the rules' constants. docs/SENTIMENT_LEXICON.md
/// lists all of it; a test keeps the two equal.
///
/// Scores: ±0.8–1.0 for events that move a market on their own (a hack, an
/// ETF approval, a bankruptcy), ±0.5–0.7 for clear moves and decisions,
/// ±0.2–0.4 for mild or ambiguous words.
public enum SentimentLexicon {
    /// Words that flip the score of the terms starting in the next
    /// `negationWindow` tokens of their clause. A token ending in
    /// `negationSuffix` ("isn't", "won't") is a negator too.
    public static let negators = ["not", "no", "never", "without", "nor", "neither", "none", "cannot"]
    public static let negationSuffix = "n't"
    public static let negationWindow = 3

    /// Words that multiply the score of the term they qualify: the first
    /// term starting in the next `intensifierReach` tokens of their clause,
    /// else the last term ending in the `intensifierReach` tokens before.
    /// Multipliers below 1 soften.
    public static let intensifiers: [(word: String, multiplier: Double)] = [
        ("extremely", 1.6), ("sharply", 1.5), ("massive", 1.5), ("massively", 1.5), ("dramatically", 1.5),
        ("huge", 1.4), ("hugely", 1.4), ("steep", 1.4), ("steeply", 1.4), ("severe", 1.4), ("severely", 1.4),
        ("dramatic", 1.4), ("biggest", 1.4), ("record", 1.4),
        ("very", 1.3), ("significantly", 1.3), ("strongly", 1.3), ("heavily", 1.3), ("deeply", 1.3), ("major", 1.3),
        ("largest", 1.3), ("big", 1.2),
        ("somewhat", 0.7), ("partially", 0.7), ("small", 0.7),
        ("modest", 0.6), ("modestly", 0.6), ("mildly", 0.6), ("minor", 0.6),
        ("slightly", 0.5), ("slight", 0.5), ("marginally", 0.5),
    ]
    public static let intensifierReach = 2

    /// Characters that end a clause: negation and intensifiers do not reach
    /// across them. A hyphen between two word characters joins words
    /// ("sell-off" reads as "sell off"); elsewhere it is a dash and ends a
    /// clause too.
    public static let clauseBreaks: Set<Character> = [".", ",", ";", ":", "!", "?", "(", ")", "[", "]", "\"", "“", "”", "—", "–", "|"]

    /// A text's score is `sum / sqrt(sum² + normalisationAlpha)`: in (-1, 1),
    /// ≈0.71 for one term of score 1, ≈0.89 for two.
    public static let normalisationAlpha = 1.0

    public static let entries: [LexiconEntry] =
        regulation + security + price + macro + business + flows + mood

    private typealias Row = (term: String, score: Double, variants: [String])

    private static func rows(_ category: LexiconCategory, _ rows: [Row]) -> [LexiconEntry] {
        rows.map { LexiconEntry(term: $0.term, score: $0.score, category: category, variants: $0.variants) }
    }

    private static let regulation = rows(.regulation, [
        ("etf approval", 0.8, ["etf approvals", "etf approved", "approves etf", "approves spot etf", "etf gets green light"]),
        ("regulatory approval", 0.7, ["regulatory approvals"]),
        ("strategic reserve", 0.7, ["strategic bitcoin reserve", "strategic reserves"]),
        ("legal tender", 0.6, []),
        ("regulatory clarity", 0.6, []),
        ("green light", 0.6, ["greenlight", "greenlights", "greenlit"]),
        ("lawsuit dismissed", 0.6, ["case dismissed", "charges dropped", "drops lawsuit", "drops charges", "lawsuit dropped"]),
        ("court win", 0.6, ["court victory", "legal victory", "wins lawsuit", "wins case"]),
        ("not guilty", 0.5, ["acquitted", "acquittal"]),
        ("approval", 0.5, ["approve", "approves", "approved", "approving"]),
        ("authorisation", 0.4, ["authorization", "authorised", "authorized", "authorises", "authorizes"]),
        ("license", 0.4, ["licence", "licensed", "licenses", "licences"]),
        ("settles", 0.3, ["settle", "settled", "settlement"]),
        ("etf rejection", -0.7, ["etf rejected", "rejects etf", "etf denied", "denies etf"]),
        ("ban", -0.7, ["bans", "banned", "banning"]),
        ("outlaw", -0.7, ["outlaws", "outlawed"]),
        ("crackdown", -0.7, ["crackdowns", "cracks down", "crack down", "cracking down"]),
        ("indicted", -0.7, ["indictment", "indicts"]),
        ("clampdown", -0.6, ["clamps down", "clamp down"]),
        ("lawsuit", -0.6, ["lawsuits"]),
        ("sues", -0.6, ["sue", "sued", "suing"]),
        ("wells notice", -0.6, []),
        ("cease and desist", -0.6, []),
        ("illegal", -0.6, ["unlawful"]),
        ("guilty", -0.6, ["convicted", "conviction"]),
        ("prohibition", -0.6, ["prohibit", "prohibits", "prohibited"]),
        ("rejection", -0.5, ["reject", "rejects", "rejected", "denies", "denied"]),
        ("charged", -0.5, ["charges filed"]),
        ("fined", -0.5, ["penalty", "penalties", "penalised", "penalized"]),
        ("sanctions", -0.5, ["sanction", "sanctioned"]),
        ("unregistered securities", -0.5, ["unregistered security", "unregistered offering"]),
        ("investigation", -0.5, ["investigations", "investigates", "investigating", "probe", "probes"]),
        ("subpoena", -0.5, ["subpoenas", "subpoenaed"]),
        ("regulatory uncertainty", -0.4, []),
        ("restrictions", -0.4, ["restriction", "restrict", "restricts", "restricted"]),
        ("delay", -0.4, ["delays", "delayed", "postpone", "postpones", "postponed"]),
    ])

    private static let security = rows(.security, [
        ("exchange hack", -0.9, ["exchange hacked", "exchange hacks", "exchange breach"]),
        ("rug pull", -0.9, ["rugpull", "rug pulls", "rugged"]),
        ("exit scam", -0.9, []),
        ("bankruptcy", -0.9, ["bankrupt", "bankruptcies", "chapter 11"]),
        ("insolvency", -0.9, ["insolvent"]),
        ("fraud", -0.8, ["fraudulent", "frauds"]),
        ("ponzi", -0.8, ["ponzi scheme"]),
        ("collapse", -0.8, ["collapses", "collapsed", "collapsing"]),
        ("security breach", -0.8, ["security breaches", "data breach"]),
        ("depeg", -0.8, ["depegs", "depegged", "de peg", "loses peg", "lost peg", "loses its peg"]),
        ("bank run", -0.8, ["bank runs"]),
        ("liquidity crisis", -0.8, []),
        ("withdrawals halted", -0.8, ["withdrawals paused", "withdrawals suspended", "halts withdrawals", "pauses withdrawals",
                                      "suspends withdrawals", "freezes withdrawals", "withdrawals frozen"]),
        ("hack", -0.7, ["hacks", "hacked", "hacker", "hackers"]),
        ("exploit", -0.7, ["exploits", "exploited"]),
        ("stolen", -0.7, ["theft", "steal", "steals", "stole"]),
        ("drained", -0.7, ["drain", "drains", "draining"]),
        ("scam", -0.7, ["scams", "scammer", "scammers"]),
        ("contagion", -0.7, []),
        ("default", -0.7, ["defaults", "defaulted"]),
        ("funds frozen", -0.7, ["frozen funds", "freezes funds", "freezes assets", "assets frozen"]),
        ("attack", -0.6, ["attacks", "attacked"]),
        ("breach", -0.6, ["breaches", "breached"]),
        ("compromised", -0.6, []),
        ("shutdown", -0.6, ["shuts down", "shut down", "shutting down"]),
        ("outage", -0.5, ["outages", "goes down", "went down"]),
        ("halt", -0.5, ["halts", "halted", "halting"]),
        ("vulnerability", -0.5, ["vulnerabilities", "vulnerable"]),
        ("phishing", -0.5, []),
        ("malware", -0.5, ["ransomware"]),
        ("downtime", -0.4, []),
        ("bug", -0.4, ["bugs", "glitch", "glitches"]),
        ("withdrawals resume", 0.5, ["withdrawals resumed", "resumes withdrawals", "reopens withdrawals"]),
        ("funds recovered", 0.5, ["recovers funds", "recovered funds", "funds returned", "stolen funds returned", "returns funds"]),
        ("patched", 0.3, ["patch", "patches", "fixed"]),
    ])

    private static let price = rows(.price, [
        ("all time high", 0.8, ["all time highs", "ath", "aths"]),
        ("skyrocket", 0.8, ["skyrockets", "skyrocketed", "skyrocketing"]),
        ("record high", 0.7, ["record highs"]),
        ("soar", 0.7, ["soars", "soared", "soaring"]),
        ("bull run", 0.7, ["bull runs"]),
        ("surge", 0.6, ["surges", "surged", "surging"]),
        ("rally", 0.6, ["rallies", "rallied", "rallying"]),
        ("breakout", 0.6, ["breakouts", "breaks out", "broke out"]),
        ("new high", 0.6, ["new highs", "fresh high", "fresh highs"]),
        ("short squeeze", 0.6, ["short squeezes", "squeezes shorts"]),
        ("bull market", 0.6, ["bull markets"]),
        ("jump", 0.5, ["jumps", "jumped", "jumping"]),
        ("rebound", 0.5, ["rebounds", "rebounded", "rebounding", "bounces back"]),
        ("golden cross", 0.5, []),
        ("recovery", 0.4, ["recover", "recovers", "recovered", "recovering"]),
        ("climb", 0.4, ["climbs", "climbed", "climbing"]),
        ("rise", 0.4, ["rises", "rose", "rising", "risen"]),
        ("gain", 0.4, ["gains", "gained", "gaining"]),
        ("outperform", 0.4, ["outperforms", "outperformed", "outperforming"]),
        ("uptrend", 0.4, []),
        ("moon", 0.4, ["mooning", "to the moon"]),
        ("upside", 0.3, []),
        ("stabilise", 0.2, ["stabilize", "stabilises", "stabilizes", "stabilised", "stabilized", "steadies"]),
        ("higher", 0.2, []),
        ("crash", -0.8, ["crashes", "crashed", "crashing"]),
        ("flash crash", -0.8, ["flash crashes"]),
        ("bloodbath", -0.8, ["carnage"]),
        ("plunge", -0.7, ["plunges", "plunged", "plunging", "nosedive", "nosedives"]),
        ("record low", -0.7, ["record lows"]),
        ("wipeout", -0.7, ["wiped out", "wipes out"]),
        ("slump", -0.6, ["slumps", "slumped", "slumping"]),
        ("tumble", -0.6, ["tumbles", "tumbled", "tumbling"]),
        ("sell off", -0.6, ["selloff", "sell offs", "selloffs", "sells off"]),
        ("bear market", -0.6, ["bear markets"]),
        ("multi year low", -0.6, ["multi year lows", "multiyear low"]),
        ("capitulation", -0.6, ["capitulates"]),
        ("sink", -0.5, ["sinks", "sank", "sunk", "sinking"]),
        ("death cross", -0.5, []),
        ("drop", -0.4, ["drops", "dropped", "dropping"]),
        ("fall", -0.4, ["falls", "fell", "falling", "fallen"]),
        ("decline", -0.4, ["declines", "declined", "declining"]),
        ("slide", -0.4, ["slides", "slid", "sliding"]),
        ("correction", -0.4, ["corrections"]),
        ("downtrend", -0.4, []),
        ("underperform", -0.4, ["underperforms", "underperformed", "underperforming"]),
        ("dip", -0.3, ["dips", "dipped", "dipping"]),
        ("slip", -0.3, ["slips", "slipped", "slipping"]),
        ("lower", -0.2, []),
    ])

    private static let macro = rows(.macro, [
        ("rate cut", 0.6, ["rate cuts", "cuts rates", "lowers rates", "cut rates"]),
        ("stimulus", 0.5, ["stimulus package"]),
        ("dovish", 0.5, ["dovish pivot"]),
        ("soft landing", 0.5, []),
        ("quantitative easing", 0.5, ["qe"]),
        ("liquidity injection", 0.5, ["injects liquidity"]),
        ("inflation cools", 0.5, ["inflation eases", "inflation slows", "cooling inflation", "inflation falls", "inflation cooled",
                                  "disinflation"]),
        ("gdp growth", 0.4, ["economy grows", "economic growth"]),
        ("risk on", 0.4, []),
        ("rate pause", 0.3, ["pauses rate hikes", "pauses hikes", "holds rates steady"]),
        ("easing", 0.3, ["eases"]),
        ("recession", -0.7, ["recessions", "recessionary"]),
        ("stagflation", -0.7, []),
        ("debt crisis", -0.7, []),
        ("rate hike", -0.6, ["rate hikes", "hikes rates", "raises rates", "rate increase", "rate increases", "hiked rates"]),
        ("inflation rises", -0.6, ["inflation surges", "inflation jumps", "inflation climbs", "inflation accelerates", "hot inflation",
                                   "inflation spikes"]),
        ("trade war", -0.6, ["trade wars"]),
        ("hawkish", -0.5, []),
        ("hard landing", -0.5, []),
        ("quantitative tightening", -0.5, ["qt"]),
        ("layoffs", -0.5, ["layoff", "lays off", "job cuts"]),
        ("unemployment rises", -0.5, ["unemployment jumps", "unemployment surges", "jobless claims jump", "jobless claims rise"]),
        ("slowdown", -0.5, ["slowdowns"]),
        ("tightening", -0.4, []),
        ("tariffs", -0.4, ["tariff"]),
        ("contraction", -0.4, ["economy shrinks"]),
        ("risk off", -0.4, []),
        ("inflation", -0.3, ["inflationary"]),
    ])

    private static let business = rows(.business, [
        ("institutional adoption", 0.7, []),
        ("mass adoption", 0.7, []),
        ("beats expectations", 0.6, ["beat expectations", "tops expectations", "better than expected", "beats estimates",
                                     "tops estimates"]),
        ("mainnet launch", 0.6, ["mainnet launches", "launches mainnet"]),
        ("breakthrough", 0.6, ["breakthroughs"]),
        ("adoption", 0.5, ["adopt", "adopts", "adopted", "adopting"]),
        ("partnership", 0.5, ["partnerships", "partners with", "partner with", "teams up"]),
        ("listing", 0.5, ["listings", "lists", "listed"]),
        ("network upgrade", 0.5, ["network upgrades"]),
        ("revenue growth", 0.5, ["revenue rises", "revenue jumps", "record revenue"]),
        ("accepts bitcoin", 0.5, ["accept bitcoin", "accepting bitcoin", "accepts crypto", "accept crypto"]),
        ("endorsement", 0.5, ["endorses", "endorsed"]),
        ("boost", 0.5, ["boosts", "boosted", "boosting"]),
        ("success", 0.5, ["successful", "successfully", "succeeds"]),
        ("launch", 0.4, ["launches", "launched", "launching"]),
        ("integration", 0.4, ["integrates", "integrated", "integrate"]),
        ("investment", 0.4, ["invests", "invested", "invest"]),
        ("funding round", 0.4, ["funding rounds", "raises funding"]),
        ("expansion", 0.4, ["expands", "expanded", "expanding"]),
        ("milestone", 0.4, ["milestones"]),
        ("upgrade", 0.4, ["upgrades", "upgraded"]),
        ("profit", 0.4, ["profits", "profitable", "profitability"]),
        ("growth", 0.4, ["grows", "grew", "growing"]),
        ("acquisition", 0.3, ["acquires", "acquired", "acquire"]),
        ("innovation", 0.3, ["innovative"]),
        ("support", 0.3, ["supports", "supported"]),
        ("misses expectations", -0.6, ["missed expectations", "worse than expected", "misses estimates", "missed estimates"]),
        ("delisting", -0.6, ["delist", "delists", "delisted"]),
        ("failure", -0.6, ["fail", "fails", "failed", "failing"]),
        ("loss", -0.5, ["losses", "loses", "lost"]),
        ("pulls out", -0.5, ["pull out", "pulled out", "exits market"]),
        ("cancelled", -0.4, ["cancels", "canceled", "cancellation", "scraps", "scrapped"]),
        ("resigns", -0.4, ["resign", "resigned", "resignation", "steps down"]),
        ("downgrade", -0.5, ["downgrades", "downgraded"]),
    ])

    private static let flows = rows(.flows, [
        ("record inflows", 0.8, ["record inflow"]),
        ("etf inflows", 0.7, ["etf inflow"]),
        ("net inflows", 0.6, ["net inflow"]),
        ("whale accumulation", 0.6, ["whales accumulate", "whales accumulating", "whales buy", "whales buying"]),
        ("inflows", 0.5, ["inflow"]),
        ("accumulation", 0.5, ["accumulate", "accumulates", "accumulating", "accumulated"]),
        ("short liquidations", 0.4, ["shorts liquidated"]),
        ("buying", 0.4, ["buy", "buys", "bought"]),
        ("demand", 0.3, ["strong demand"]),
        ("record outflows", -0.8, ["record outflow"]),
        ("etf outflows", -0.7, ["etf outflow"]),
        ("net outflows", -0.6, ["net outflow"]),
        ("capital flight", -0.6, []),
        ("dump", -0.6, ["dumps", "dumped", "dumping"]),
        ("long liquidations", -0.6, ["longs liquidated"]),
        ("outflows", -0.5, ["outflow"]),
        ("liquidations", -0.5, ["liquidation", "liquidated"]),
        ("margin call", -0.5, ["margin calls"]),
        ("weak demand", -0.5, ["demand slumps", "demand falls"]),
        ("selling", -0.4, ["sell", "sells", "sold"]),
        ("deleveraging", -0.4, ["deleverage"]),
        ("profit taking", -0.3, []),
    ])

    private static let mood = rows(.mood, [
        ("bullish", 0.6, ["bulls"]),
        ("boom", 0.6, ["booms", "booming"]),
        ("optimism", 0.5, ["optimistic"]),
        ("euphoria", 0.5, ["euphoric"]),
        ("great", 0.5, ["excellent"]),
        ("confidence", 0.4, ["confident"]),
        ("positive", 0.4, []),
        ("upbeat", 0.4, []),
        ("relief", 0.4, ["relieved"]),
        ("resilient", 0.4, ["resilience"]),
        ("robust", 0.4, []),
        ("win", 0.4, ["wins", "won", "winning"]),
        ("strong", 0.3, ["strength", "strengthens", "stronger"]),
        ("hope", 0.3, ["hopes", "hopeful"]),
        ("healthy", 0.3, []),
        ("good", 0.3, []),
        ("crisis", -0.7, ["crises"]),
        ("panic", -0.7, ["panics", "panicked"]),
        ("bearish", -0.6, ["bears"]),
        ("fear", -0.6, ["fears", "feared"]),
        ("turmoil", -0.6, []),
        ("chaos", -0.6, ["chaotic"]),
        ("bust", -0.6, []),
        ("dead", -0.6, ["death"]),
        ("terrible", -0.6, ["awful"]),
        ("pessimism", -0.5, ["pessimistic"]),
        ("worry", -0.5, ["worries", "worried"]),
        ("gloomy", -0.5, ["gloom"]),
        ("threat", -0.5, ["threats", "threatens", "threatened"]),
        ("troubled", -0.5, ["trouble", "troubles"]),
        ("uncertainty", -0.4, ["uncertain"]),
        ("concern", -0.4, ["concerns", "concerned"]),
        ("weak", -0.4, ["weakness", "weakens", "weaker"]),
        ("negative", -0.4, []),
        ("warning", -0.4, ["warns", "warned", "warn", "warnings"]),
        ("doubt", -0.4, ["doubts", "doubtful"]),
        ("struggle", -0.4, ["struggles", "struggling"]),
        ("caution", -0.3, ["cautious"]),
        ("bad", -0.3, []),
        ("risk", -0.2, ["risks", "risky"]),
    ])
}
