import { afterEach, describe, expect, it, vi } from 'vitest';
import { until } from '../../../test/browser.js';
import { PpRequestError } from '../../client/errors.js';
import { defineElements } from '../../define.js';
import type { Term } from '../../types.js';
import type { PpTermTree } from './pp-term-tree.js';

defineElements();

const term = (id: string, isleaf: boolean, supported = true): Term => ({
  id,
  name: id[0]?.toUpperCase() + id.slice(1),
  type: isleaf ? 'categorical' : null,
  isleaf,
  supported,
});

const children: Record<string, Term[]> = {
  demographics: [term('sex', true), term('race', true)],
  outcomes: [term('survival', true, false)],
};

const mounted: Element[] = [];
afterEach(() => mounted.splice(0).forEach((element) => element.remove()));

async function mount(load = vi.fn(async (id: string) => children[id] ?? [])) {
  const tree = document.createElement('pp-term-tree');
  tree.terms = [term('demographics', false), term('outcomes', false)];
  tree.loadChildren = load;
  document.body.append(tree);
  mounted.push(tree);
  await tree.updateComplete;
  return { tree, load };
}

const items = (tree: PpTermTree) => [
  ...(tree.shadowRoot?.querySelectorAll<HTMLElement>('[role="treeitem"]') ?? []),
];
const focused = (tree: PpTermTree) => tree.shadowRoot?.activeElement?.getAttribute('data-id');
const press = (tree: PpTermTree, key: string) =>
  tree.shadowRoot?.activeElement?.dispatchEvent(
    new KeyboardEvent('keydown', { key, bubbles: true, composed: true }),
  );

describe('<pp-term-tree>', () => {
  it('is one tab stop and follows the tree keyboard pattern', async () => {
    const { tree, load } = await mount();
    expect(items(tree).map((item) => item.tabIndex)).toEqual([0, -1]);
    items(tree)[0]?.focus();
    press(tree, 'ArrowRight');
    await until(() => items(tree).length === 4);
    expect(load).toHaveBeenCalledWith('demographics', expect.any(AbortSignal));
    expect(items(tree)[0]?.getAttribute('aria-expanded')).toBe('true');
    press(tree, 'ArrowRight');
    await until(() => focused(tree) === 'sex');
    press(tree, 'ArrowDown');
    await until(() => focused(tree) === 'race');

    const selected = new Promise<string>((resolve) =>
      tree.addEventListener('pp-term-select', (event) => resolve(event.detail.term.id), { once: true }),
    );
    press(tree, 'Enter');
    expect(await selected).toBe('race');

    press(tree, 'ArrowLeft');
    await until(() => focused(tree) === 'demographics');
    press(tree, 'ArrowLeft');
    await until(() => items(tree).length === 2);
    press(tree, 'End');
    await until(() => focused(tree) === 'outcomes');
  });

  it('does not select a term that cannot be charted', async () => {
    const { tree } = await mount();
    items(tree)[1]?.querySelector<HTMLElement>('.row')?.click();
    await until(() => items(tree).length === 3);
    const survival = items(tree)[2];
    expect(survival?.getAttribute('aria-disabled')).toBe('true');
    expect(survival?.textContent).toContain('not supported yet');
    const onSelect = vi.fn();
    tree.addEventListener('pp-term-select', onSelect);
    survival?.querySelector<HTMLElement>('.row')?.click();
    await tree.updateComplete;
    expect(onSelect).not.toHaveBeenCalled();
  });

  it('shows a failed child load in place and tries again on the next expansion', async () => {
    const load = vi
      .fn<(id: string) => Promise<Term[]>>()
      .mockRejectedValueOnce(new PpRequestError('network_error', 0, 'terms'))
      .mockResolvedValue(children.demographics ?? []);
    const { tree } = await mount(load);
    tree.describeError = (error) => `failed: ${error.code}`;
    const row = () => items(tree)[0]?.querySelector<HTMLElement>('.row');
    row()?.click();
    await until(() => tree.shadowRoot?.textContent?.includes('failed: network_error'));
    row()?.click();
    row()?.click();
    await until(() => items(tree).length === 4);
    expect(load).toHaveBeenCalledTimes(2);
  });
});
