import { EnricherError } from '../errors.js';

/**
 * A Label Studio labeling config, as far as NER needs it: which `<Labels>` tag labels which
 * `<Text>` tag, the task data field that text comes from, and the label values.
 *
 *   <View>
 *     <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
 *     <Text name="text" value="$text"/>
 *   </View>
 *
 * Several Labels/Text pairs may appear; a Labels tag may name several Text tags
 * (`toName="title,body"`). Other tags (Choices, TextArea, layout Views, …) are ignored.
 */
export interface NerTarget {
  /** The Labels tag's `name` (a prediction's `from_name`). */
  readonly fromName: string;
  /** The Text tag's `name` (a prediction's `to_name`). */
  readonly toName: string;
  /** The task data field the Text tag shows (`value="$body"` → `body`). */
  readonly field: string;
  /** The Label values, in config order. */
  readonly labels: readonly string[];
}

interface Tag {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: Tag[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function invalid(message: string): EnricherError {
  return new EnricherError('LABEL_CONFIG_INVALID', `labeling config: ${message}`);
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/giu, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    const v = ENTITIES[name.toLowerCase()];
    if (v === undefined) throw invalid(`unknown entity ${whole}`);
    return v;
  });
}

const TAG_RE = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<(\/?)([A-Za-z][\w.-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/gu;
const ATTR_RE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/gu;

/** The element tree (tags and attributes only; text content is not needed). */
function parseTree(xml: string): Tag {
  const root: Tag = { name: '#root', attrs: {}, children: [] };
  const stack: Tag[] = [root];
  let last = 0;
  for (const m of xml.matchAll(TAG_RE)) {
    if (/<(?![!?])/u.test(xml.slice(last, m.index))) throw invalid(`malformed markup near "${xml.slice(last, m.index).trim().slice(0, 40)}"`);
    last = m.index + m[0].length;
    const [, closing, name, attrText, selfClosing] = m;
    if (name === undefined) continue; // comment, processing instruction, CDATA
    if (closing === '/') {
      const open = stack.pop();
      if (open === undefined || open === root || open.name !== name) throw invalid(`</${name}> closes <${open?.name ?? 'nothing'}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of (attrText ?? '').matchAll(ATTR_RE)) attrs[a[1]!] = decodeEntities(a[2] ?? a[3] ?? '');
    const tag: Tag = { name, attrs, children: [] };
    stack.at(-1)!.children.push(tag);
    if (selfClosing !== '/') stack.push(tag);
  }
  if (/<(?![!?])/u.test(xml.slice(last))) throw invalid(`malformed markup near "${xml.slice(last).trim().slice(0, 40)}"`);
  if (stack.length > 1) throw invalid(`<${stack.at(-1)!.name}> is never closed`);
  return root;
}

function* walk(tag: Tag): Generator<Tag> {
  for (const c of tag.children) {
    yield c;
    yield* walk(c);
  }
}

/** The NER targets of a labeling config; refused (LABEL_CONFIG_INVALID) when it has none or they do not fit together. */
export function parseLabelConfig(xml: string): NerTarget[] {
  const tags = [...walk(parseTree(xml))];
  const texts = new Map<string, string>();
  for (const t of tags.filter((x) => x.name === 'Text')) {
    const name = t.attrs.name;
    const value = t.attrs.value ?? '';
    if (name === undefined || name === '') throw invalid('a <Text> tag has no name');
    if (!/^\$[\w.-]+$/u.test(value)) throw invalid(`<Text name="${name}"> value must be a task field like "$text", not "${value}"`);
    texts.set(name, value.slice(1));
  }
  const targets: NerTarget[] = [];
  for (const l of tags.filter((x) => x.name === 'Labels')) {
    const fromName = l.attrs.name;
    if (fromName === undefined || fromName === '') throw invalid('a <Labels> tag has no name');
    const labels = l.children.filter((c) => c.name === 'Label').map((c) => c.attrs.value ?? '');
    if (labels.length === 0 || labels.some((v) => v === '')) throw invalid(`<Labels name="${fromName}"> needs <Label value="…"> children, each with a value`);
    if (new Set(labels).size !== labels.length) throw invalid(`<Labels name="${fromName}"> repeats a label value`);
    const toNames = (l.attrs.toName ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (toNames.length === 0) throw invalid(`<Labels name="${fromName}"> has no toName`);
    for (const toName of toNames) {
      const field = texts.get(toName);
      if (field === undefined) throw invalid(`<Labels name="${fromName}"> points at "${toName}", which is no <Text> tag of the config`);
      targets.push({ fromName, toName, field, labels });
    }
  }
  if (targets.length === 0) throw invalid('no <Labels> tag labels a <Text> tag: this backend does named entities on text');
  return targets;
}
