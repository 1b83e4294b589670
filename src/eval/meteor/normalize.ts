// METEOR 1.5's `-norm` text normalisation for English (Normalizer.normalizeLine with punctuation kept): a Moses-style
// tokenisation with METEOR's additions (quote and dash normalisation, dashes between words removed so "frost-covered"
// can match "frost covered", dots of mixed acronyms dropped), then lowercasing.
// https://github.com/cmu-mtlab/meteor/blob/master/src/edu/cmu/meteor/util/Normalizer.java

const ALPHA = 'A-Za-zŠŽšžŸÀ-ÖØ-öø-ž\\u0400-\\u04FF\\u0500-\\u0527\\uA640-\\uA66E\\uA67E-\\uA697\\u1D00-\\u1D7F';
const ALNUM = `0-9${ALPHA}`;

// Moses' English nonbreaking prefixes (a word ending in "." keeps its dot when it is one of these)
const NONBREAKING = new Set(
  `A B C D E F G H I J K L M N O P Q R S T U V W X Y Z Adj Adm Adv Asst Bart Bldg Brig Bros Capt Cmdr Col Comdr Con Corp
Cpl DR Dr Drs Ens Gen Gov Hon Hr Hosp Insp Lt MM MR MRS MS Maj Messrs Mlle Mme Mr Mrs Ms Msgr Op Ord Pfc Ph Prof Pvt Rep
Reps Res Rev Rt Sen Sens Sfc Sgt Sr St Supt Surg v vs i.e rev e.g`.split(/\s+/),
);
const NONBREAKING_BEFORE_NUMBER = new Set(['No', 'Nos', 'Art', 'Nr', 'pp']);

const rules: [RegExp, string][] = [
  [new RegExp(`([^${ALNUM}\\s.'\`,\\-‘’])`, 'g'), ' $1 '],
];

/** The tokens METEOR scores for one English line under `-norm`. */
export function meteorNormalize(line: string): string[] {
  let s = ` ${line} `;
  for (const [re, to] of rules) s = s.replace(re, to);
  // escape runs of dots so the dot splitting below leaves them alone
  s = s.replace(/\.([.]+)/g, ' DOTMULTI$1');
  while (s.includes('DOTMULTI.')) {
    s = s.replace(/DOTMULTI\.([^.])/g, 'DOTDOTMULTI $1');
    s = s.split('DOTMULTI.').join('DOTDOTMULTI');
  }
  // commas split except inside numbers
  s = s.replace(/([^0-9]),([^0-9])/g, '$1 , $2').replace(/([0-9]),([^0-9])/g, '$1 , $2').replace(/([^0-9]),([0-9])/g, '$1 , $2');
  s = s.replace(/[`‘’]/g, "'").replace(/[“”]|''/g, ' " ');
  s = s.split('–').join('-').split('--').join('-');
  s = s.replace(new RegExp(`([${ALNUM}.])-([${ALNUM}])`, 'g'), '$1 $2');
  // English splits contractions to the right: "it's" → "it 's"
  s = s.replace(new RegExp(`([^${ALPHA}])'([^${ALPHA}])`, 'g'), "$1 ' $2");
  s = s.replace(new RegExp(`([^${ALPHA}0-9])'([${ALPHA}])`, 'g'), "$1 ' $2");
  s = s.replace(new RegExp(`([${ALPHA}])'([^${ALPHA}])`, 'g'), "$1 ' $2");
  s = s.replace(new RegExp(`([${ALPHA}])'([${ALPHA}])`, 'g'), "$1 '$2");
  s = s.replace(/([0-9])'(s)/g, "$1 '$2");
  const words = s.split(/[ \t\n\r\f]+/).filter((w) => w.length > 0);
  const out: string[] = [];
  words.forEach((w, i) => {
    if (w.length > 1 && w.endsWith('.')) {
      const pre = w.slice(0, -1);
      const next = words[i + 1];
      if (pre.includes('.') && new RegExp(`[${ALPHA}]`).test(pre)) out.push(w.split('.').join(''));
      else if (NONBREAKING.has(pre) || (next !== undefined && /^\p{Ll}/u.test(next))) out.push(w);
      else if (NONBREAKING_BEFORE_NUMBER.has(pre) && next !== undefined && /^[0-9]+/.test(next)) out.push(w);
      else out.push(pre, '.');
    } else out.push(w);
  });
  let joined = out.join(' ');
  while (joined.includes('DOTDOTMULTI')) joined = joined.split('DOTDOTMULTI').join('DOTMULTI.');
  joined = joined.split('DOTMULTI').join('.');
  return joined
    .replace(/[\u0020\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]+/g, ' ')
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0);
}
