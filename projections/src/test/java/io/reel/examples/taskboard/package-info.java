/**
 * The task board read model of the example domain (task scheduling): tasks per investigator, by status. Kept
 * in the test tree, where it runs as a test, so it is not in the library jar.
 */
package io.reel.examples.taskboard;
