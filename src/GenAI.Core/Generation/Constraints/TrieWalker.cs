namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// Computes which tokens a state allows by walking a token trie depth-first with the automaton: each edge's byte
/// steps the states of its parent, a branch no state survives is pruned with everything below it, and every token
/// ending at a surviving node is allowed. One walker per request (it keeps a buffer per trie level); not thread-safe.
/// </summary>
internal sealed class TrieWalker
{
    private List<Frame>[] _levels = [];

    /// <summary>Adds to <paramref name="mask"/> every token of <paramref name="trie"/> whose bytes <paramref name="states"/> accept.</summary>
    public void Walk(TokenTrie trie, Frame[] states, TokenMask mask)
    {
        if (_levels.Length < trie.MaxDepth + 1)
        {
            _levels = Enumerable.Range(0, trie.MaxDepth + 1).Select(_ => new List<Frame>(4)).ToArray();
        }
        Walk(trie, 0, states, 0, mask);
    }

    private void Walk(TokenTrie trie, int node, IReadOnlyList<Frame> states, int level, TokenMask mask)
    {
        var next = _levels[level];
        int start = trie.EdgeStart[node], end = start + trie.EdgeCount[node];
        for (int edge = start; edge < end; edge++)
        {
            next.Clear();
            int b = trie.EdgeBytes[edge];
            for (int s = 0; s < states.Count; s++) states[s].Step(b, next);
            if (next.Count == 0) continue;
            if (next.Count > 1) StateSet.Deduplicate(next);
            int child = trie.EdgeTargets[edge];
            int first = trie.TokenStart[child], count = trie.TokenCount[child];
            for (int t = 0; t < count; t++) mask.Set(trie.TokenIds[first + t]);
            if (trie.EdgeCount[child] > 0) Walk(trie, child, next, level + 1, mask);
        }
    }
}
