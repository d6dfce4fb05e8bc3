// The image classifier whose features the sample-quality metrics use.
export { Classifier, argmaxRows, classify, classifyLogits, embedAndClassify, embedImages } from './classifier.js';
export { checkClassifierConfig, makeClassifierConfig, type ClassifierConfig } from './config.js';
