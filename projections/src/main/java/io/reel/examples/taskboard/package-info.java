/**
 * The task board read model of the example domain (task scheduling): tasks per investigator, by status.
 */
package io.reel.examples.taskboard;
