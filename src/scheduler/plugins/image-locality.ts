/**
 * ImageLocality: prefers nodes that already have the pod's images
 * (node.status.images), weighting each image by its size and by how many
 * nodes have it, so that one node with a popular image does not attract
 * everything.
 */
import { MAX_NODE_SCORE, type ScorePlugin } from '../framework.js';

export const IMAGE_LOCALITY = 'ImageLocality';

const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

export const imageLocalityScore: ScorePlugin = {
  name: IMAGE_LOCALITY,
  weight: 1,
  preScore(pod, _nodes, snapshot) {
    // No node has any of the images: every node would score 0.
    if (pod.images.length === 0 || !snapshot.hasAnyImage(pod.images)) return null;
    const total = snapshot.nodes().length;
    const spread = pod.images.map((name) => snapshot.imageNodeCount(name) / total);
    const maxThreshold = MAX_CONTAINER_THRESHOLD * pod.containerCount;
    return {
      score(node) {
        let sum = 0;
        for (let i = 0; i < pod.images.length; i++) {
          const size = node.images.get(pod.images[i]!);
          if (size !== undefined) sum += Math.trunc(size * spread[i]!);
        }
        if (sum < MIN_THRESHOLD) sum = MIN_THRESHOLD;
        else if (sum > maxThreshold) sum = maxThreshold;
        return Math.floor((MAX_NODE_SCORE * (sum - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD));
      },
    };
  },
};
