import { describe, expect, it } from 'vitest';
import { parseLabelConfig } from '../../../src/label-studio/label-config.js';

describe('parseLabelConfig', () => {
  it('reads the usual NER config', () => {
    const xml = `<View>
      <Labels name="label" toName="text">
        <Label value="PER" background="red"/>
        <Label value="ORG"></Label>
        <Label value="Loc &amp; GPE"/>
      </Labels>
      <Text name="text" value="$text"/>
    </View>`;
    expect(parseLabelConfig(xml)).toEqual([{ fromName: 'label', toName: 'text', field: 'text', labels: ['PER', 'ORG', 'Loc & GPE'] }]);
  });

  it('reads several pairs, a Labels tag naming two Text tags, nested views, comments and single quotes', () => {
    const xml = `<?xml version="1.0"?><View>
      <!-- <Labels name="old" toName="gone"><Label value="X"/></Labels> -->
      <View style="display: flex"><Header value="Title"/><Text name='title' value='$headline'/></View>
      <Text name="body" value="$body"/>
      <Labels name="ents" toName="title, body"><Label value="person"/></Labels>
      <Labels name="topics" toName="body"><Label value="event"/></Labels>
      <Choices name="sentiment" toName="body"><Choice value="positive"/></Choices>
    </View>`;
    expect(parseLabelConfig(xml)).toEqual([
      { fromName: 'ents', toName: 'title', field: 'headline', labels: ['person'] },
      { fromName: 'ents', toName: 'body', field: 'body', labels: ['person'] },
      { fromName: 'topics', toName: 'body', field: 'body', labels: ['event'] },
    ]);
  });

  it.each([
    ['<View><Text name="text" value="$text"/></View>', 'no <Labels> tag'],
    ['<View><Labels name="l" toName="nope"><Label value="A"/></Labels><Text name="text" value="$text"/></View>', 'which is no <Text> tag'],
    ['<View><Labels name="l" toName="text"></Labels><Text name="text" value="$text"/></View>', 'needs <Label value'],
    ['<View><Labels name="l" toName="text"><Label value="A"/><Label value="A"/></Labels><Text name="text" value="$text"/></View>', 'repeats a label'],
    ['<View><Labels name="l" toName="text"><Label value="A"/></Labels><Text name="text" value="text"/></View>', 'must be a task field'],
    ['<View><Labels name="l" toName="text"><Label value="A"/></Labels><Text name="text" value="$text"/>', 'never closed'],
    ['<View><Labels name="l" toName="text"><Label value="A"/></View>', 'closes <Labels>'],
    ['<View><Labels name="l" toName="text" <Label value="A"/></Labels></View>', 'malformed markup'],
    ['<View><Text name="t" value="$t" title="&nbsp;"/></View>', 'unknown entity'],
  ])('refuses %s', (xml, message) => {
    expect(() => parseLabelConfig(xml)).toThrow(expect.objectContaining({ code: 'LABEL_CONFIG_INVALID', message: expect.stringContaining(message) as unknown }));
  });
});
